"""The import contracts scripts/test checks (issue 8): a cycle anywhere breaks the build."""

import grimp

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
