"""Rasa's RulePolicy, reading only the conversation's turns that a rule can reach.

RulePolicy works out the state of every turn of the conversation, from its first event,
two or three times a message, and checks every rule against every one of them. A rule
only ever compares its own length of turns, counted back from now (two, in
data/rules.yml), so the older turns cannot change which rule applies. They were most of
the policy's time in a long conversation (docs/performance.md). Here only the last turns,
as many as the longest rule has, are worked out; training is Rasa's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker


def recent_states(tracker: DialogueStateTracker, domain: Domain, count: int) -> List[State]:
    """The last `count` of `tracker.past_states(domain)` (all slots, no turn hidden:
    RulePolicy's reading), without the states of the turns before them. The events are
    replayed as `tracker.generate_all_prior_trackers()` replays them, from one list of
    applied events (working that list out twice was a quarter of the policy's time)."""
    events = tracker.applied_events()
    first = sum(isinstance(event, ActionExecuted) for event in events) + 1 - count
    prior, turn, states = tracker.init_copy(), 0, []
    for event in events:
        if isinstance(event, ActionExecuted):
            if turn >= first:
                states.append(domain._clean_state(domain.get_active_state(prior)))
            turn += 1
        prior.update(event)
    if turn >= first:
        states.append(domain._clean_state(domain.get_active_state(prior)))
    return states


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RecentTurnsRulePolicy(RulePolicy):
    def _longest_rule(self) -> int:
        # Rasa caches each key's states (_rule_key_to_state): a few microseconds a call.
        keys = [*self.lookup.get(RULES, {}), *self.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
        return max((len(self._rule_key_to_state(key)) for key in keys), default=1)

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        states = recent_states(tracker, domain, self._longest_rule())
        self.featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states
