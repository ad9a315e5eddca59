"""An import-linter contract the built-in ones lack: no import cycle between any modules.

import-linter's `acyclic_siblings` only compares sibling packages; a cycle that
runs through another app (notifications -> programs.services -> notifications)
slips past it. This contract looks at every import between the project's
modules, imports inside functions included, and reports each cycle it finds.
"""

from importlinter import Contract, ContractCheck, fields, output


def _strongly_connected(nodes, edges):
    """Tarjan's algorithm, iterative: the groups of modules that import each other in a ring."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose):
        prefixes = list(self.packages)
        modules = {m for m in graph.modules if any(m == p or m.startswith(p + ".") for p in prefixes)}
        edges = {m: set(graph.find_modules_directly_imported_by(m)) & modules for m in modules}
        cycles = []
        for group in _strongly_connected(modules, edges):
            if len(group) < 2:
                continue
            first = min(group)
            back = next(m for m in sorted(group) if first in edges[m])
            chain = graph.find_shortest_chain(importer=first, imported=back) or (first, back)
            cycles.append({"modules": sorted(group), "example": [*chain, first]})
        return ContractCheck(kept=not cycles, warnings=None, metadata={"cycles": cycles})

    def render_broken_contract(self, check):
        for cycle in check.metadata["cycles"]:
            output.print_error(f"{len(cycle['modules'])} modules import each other in a cycle:")
            output.new_line()
            for module in cycle["modules"]:
                output.print_error(f"    {module}", bold=False)
            output.print_error("  for example: " + " -> ".join(cycle["example"]), bold=False)
            output.new_line()
