"""The import contracts scripts/test checks (issue 8): a cycle anywhere breaks the build."""

import tomllib
from pathlib import Path

import grimp
from importlinter.configuration import configure
from importlinter.contracts.forbidden import ForbiddenContract

from lms_notify.import_contracts import AcyclicModulesContract


def _contract():
    return AcyclicModulesContract(name="no cycles", session_options={}, contract_options={"packages": ["app", "other"]})


def _graph(*imports):
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    return graph


def test_a_cycle_through_another_app_breaks_the_contract():
    graph = _graph(("app.services", "app.notify"), ("app.notify", "other.services"), ("other.services", "app.services"))

    check = _contract().check(graph, verbose=False)

    assert not check.kept
    [cycle] = check.metadata["cycles"]
    assert cycle["modules"] == ["app.notify", "app.services", "other.services"]
    assert cycle["example"][0] == cycle["example"][-1]


def test_imports_that_only_go_down_keep_the_contract():
    graph = _graph(("app.services", "app.notify"), ("app.notify", "other.services"), ("other.services", "app.models"))

    assert _contract().check(graph, verbose=False).kept


def test_the_project_itself_has_no_cycle():
    graph = grimp.build_graph("learners", "programs", "live_sessions", "notifications", "lms_notify")
    contract = AcyclicModulesContract(
        name="no cycles",
        session_options={},
        contract_options={"packages": ["learners", "programs", "live_sessions", "notifications", "lms_notify"]},
    )
    assert contract.check(graph, verbose=False).metadata["cycles"] == []


# Issue 17 ("The boundary is enforced"): other apps import only notifications.services and notifications.models.
def _boundary_contract():
    configure()  # what the lint-imports command sets up (its timer) before checking a contract

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["tool"]["importlinter"]
    [options] = [
        c for c in config["contracts"] if c["type"] == "forbidden" and "notifications.*" in c["forbidden_modules"]
    ]
    # As import-linter's own reader passes them: a boolean as its word.
    options = {
        key: str(value).lower() if isinstance(value, bool) else value
        for key, value in options.items()
        if key not in ("name", "type")
    }
    return ForbiddenContract(
        name="boundary", session_options={"root_packages": config["root_packages"]}, contract_options=options
    )


def _with_notifications(*imports):
    # The modules exist in the graph with their packages, as they do in the project.
    internals = ("services", "models", "door", "registry", "views", "outbox.dispatch")
    graph = _graph(*imports, *((f"notifications.{m}", "notifications.models") for m in internals if m != "models"))
    names = {name for pair in imports for name in pair} | {f"notifications.{m}" for m in internals}
    for name in names | {"learners", "programs", "live_sessions", "lms_notify"}:
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            graph.add_module(".".join(parts[:depth]))
    return graph


def test_an_app_importing_a_notifications_internal_breaks_the_boundary_contract():
    for importer, internal in [
        ("learners.services", "notifications.door"),
        ("programs.notifications", "notifications.registry"),
        ("lms_notify.urls", "notifications.views"),
        ("live_sessions.services.roster", "notifications.outbox.dispatch"),
    ]:
        check = _boundary_contract().check(_with_notifications((importer, internal)), verbose=False)
        assert not check.kept, f"{importer} -> {internal} slipped through"


def test_an_app_importing_the_facade_or_the_models_keeps_the_boundary_contract():
    graph = _with_notifications(
        ("learners.services", "notifications.services"), ("programs.models", "notifications.models")
    )

    assert _boundary_contract().check(graph, verbose=False).kept


def test_tests_may_import_notifications_internals():
    # The contract is about application code: a test may reach an internal it checks.
    graph = _with_notifications(("programs.tests.test_due", "notifications.door"))

    assert _boundary_contract().check(graph, verbose=False).kept


def test_the_project_itself_keeps_the_boundary():
    graph = grimp.build_graph("learners", "programs", "live_sessions", "notifications", "lms_notify")

    assert _boundary_contract().check(graph, verbose=False).kept
