"""The Rasa server's graphs give the same results without dask's scheduler."""

import asyncio

import rasa.core.processor
from rasa.core.agent import load_agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bench.nlu import HELDOUT, examples
from stores import graph_runner
from stores.graph_runner import SequentialGraphRunner
from tests.conftest import MODEL

TEXTS = [text for _, text, _ in examples(HELDOUT / "nlu.yml")][:60] + ["hi", "I can't breathe", ""]


def results(monkeypatch, runner_class):
    """Every text parsed (NLU graph), then the next action after it (policy graph), by a
    model loaded with `runner_class`."""
    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", runner_class)

    async def run():
        agent = await load_agent(model_path=str(MODEL))
        assert type(agent.processor.graph_runner) is runner_class
        out = []
        for text in TEXTS:
            parsed = await agent.parse_message(text)
            tracker = DialogueStateTracker.from_events("patient", [
                ActionExecuted("action_listen"), UserUttered(text, parsed["intent"], parsed["entities"], parsed)],
                agent.domain.slots)
            prediction = agent.processor._predict_next_with_tracker(tracker)
            out.append((parsed, prediction.max_confidence_index, prediction.policy_name, list(prediction.probabilities)))
        return out

    return asyncio.run(run())


def test_the_same_parses_and_predictions_as_with_dask(monkeypatch):
    dask = results(monkeypatch, DaskGraphRunner)
    assert results(monkeypatch, SequentialGraphRunner) == dask
    # Real readings, not one for all: the texts' greeting, emergency and their commonest section.
    assert {p[0]["intent"]["name"] for p in dask} >= {"greet", "urgent_emergency", "ask_summary"}


def test_installed_for_the_graphs_the_rasa_server_loads(monkeypatch):
    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", DaskGraphRunner)
    graph_runner.install()
    assert rasa.core.processor.DaskGraphRunner is SequentialGraphRunner
    processor = rasa.core.processor.MessageProcessor(MODEL, tracker_store=None, lock_store=None,
                                                     generator=None)
    assert type(processor.graph_runner) is SequentialGraphRunner
