"""The Rasa server's prediction graphs run node after node, without dask's scheduler.

Rasa 3.6 runs the NLU and policy graph of every message with dask's synchronous
scheduler (DaskGraphRunner.run -> dask.get), after working out again which nodes
the targets need. Our graphs are small chains run once per message and per
prediction: the scheduler's bookkeeping and the repeated schema walk were 7% of
the Rasa server's time per message (docs/performance.md). Here the nodes that a
set of targets needs are worked out once, and each node runs once, after the
nodes it needs, with the same inputs and outputs as under dask.

Only the graphs that the Rasa server loads to answer (MessageProcessor) change;
training keeps Rasa's runner. install() is called with the other hooks of the Rasa
server (stores/remote_action.py).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._graphs: Dict[Tuple[Text, ...], Dict[Text, Any]] = {}

    def run(self, inputs: Optional[Dict[Text, Any]] = None,
            targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        key = tuple(run_targets)
        if key not in self._graphs:
            self._graphs[key] = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        graph = dict(self._graphs[key])
        self._add_inputs_to_graph(inputs, graph)
        results: Dict[Text, Any] = {}

        def result(name: Text) -> Any:
            if name not in graph:  # as dask: a name that is no key is the value itself
                return name
            if name not in results:
                node, *needs = graph[name]
                # A node returns (its name, its output); an input is (name, value) already.
                results[name] = node(*(result(n) for n in needs)) if callable(node) else graph[name]
            return results[name]

        try:
            return dict(result(target) for target in run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error


def install() -> None:
    """The graphs the Rasa server loads to answer run with SequentialGraphRunner (idempotent)."""
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
