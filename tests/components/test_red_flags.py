"""Urgent symptoms are found however they are written; questions about risk are not."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from actions import knowledge_base
from components.red_flag_detector import RedFlagDetector
from components.red_flags import RedFlagMatcher
from components.spelling_normaliser import AS_WRITTEN
from scripts.clinic_copy import ADDED, add_procedure, copy_project


@pytest.fixture(scope="module")
def matcher():
    return RedFlagMatcher()


@pytest.mark.parametrize(
    "message, flag",
    [
        ("I can't feel my legs", "leg_weakness_numbness"),
        ("cant feel my legs!!", "leg_weakness_numbness"),
        ("my left leg keeps giving out since the spacer", "leg_weakness_numbness"),
        ("numbness in my groin", "leg_weakness_numbness"),
        ("i keep peeing myself", "bladder_bowel_control"),
        ("lost control of my bowels this morning", "bladder_bowel_control"),
        ("I can't breathe", "breathing_allergy"),
        ("my throat is swelling up after the dye", "breathing_allergy"),
        ("my chest hurts", "chest_pain"),
        ("the bleeding wont stop", "heavy_bleeding"),
        ("the bleading wont stop", "heavy_bleeding"),  # typo
        ("my husband passed out", "fainting_confusion"),
        ("I have a fever since yesterday", "fever_chills"),
        ("temp is 101 and chills", "fever_chills"),
        ("the injection site is red and hot", "site_infection"),
        ("there's pus coming out of my incison", "site_infection"),  # typo
        ("pounding headache whenever I stand up", "positional_headache"),
        ("i cant stop vomitting", "severe_new_pain_vomiting"),  # typo
    ],
)
def test_reported_symptoms_are_flagged(matcher, message, flag):
    assert matcher.match(message).key == flag


def test_tiers(matcher):
    assert matcher.match("I can't feel my legs").intent == "urgent_emergency"
    assert matcher.match("I have chills").intent == "urgent_symptom"
    # The most severe flag wins when a message has several.
    assert matcher.match("I have a fever and my chest hurts").intent == "urgent_emergency"


def test_a_symptom_wins_whatever_else_the_message_says(matcher):
    message = "what are the risks of a discogram? also I can't feel my legs"
    assert matcher.match(message).intent == "urgent_emergency"


def test_is_it_normal_is_a_report(matcher):
    assert matcher.match("is it normal to have a fever after the procedure?").intent == "urgent_symptom"


@pytest.mark.parametrize(
    "message",
    [
        "is infection a risk?",
        "what are the risks of a discogram",
        "can a discogram cause nerve damage",
        "could I lose bladder control from this",
        "is there a risk of paralysis",
        "can you get an allergic reaction to the dye",
        "how common is bleeding after nucleoplasty",
        "how long does it take",
        "will I be in pain after",
        "where do I park on campus",
        "I have a question about fewer side effects",
    ],
)
def test_questions_and_ordinary_messages_are_not_flagged(matcher, message):
    assert matcher.match(message) is None


def test_a_question_that_also_reports_is_flagged(matcher):
    assert matcher.match("is infection a risk? my incision is red and swollen since yesterday")


@pytest.mark.parametrize(
    "message",
    [
        "I do not have a fever, can I shower?",
        "no numbness at all since the discogram, is that good?",
        "my neighbor had a bad headache after her epidural, does that happen with the Racz procedure?",
        "my husband fainted at his own procedure last year",
        "my friend passed out at his procedure",
        "I had a fever last month but it is gone, can I still have the discogram?",
        "a lady in my exercise class got a rash after her discogram, do they check for dye allergies?",
        "When I was a kid I had a seizure with a fever; should the anesthetist know?",
        "I always get hives from sticking plasters, can they use paper tape?",
        "My feet were numb before the procedure, so how will I know if it helped?",
        # long-standing, the reason for the procedure, not new since it
        "I've had numbness in my legs from stenosis for years, long before any procedure. Is that what the spacer treats?",
        "For years my stenosis has made my legs feel weak after walking a block. Will the spacer fix that?",
        "I fainted once when I got blood drawn in college. Will that happen during the discogram?",
        "I had a reaction to contrast dye at a CT scan in 2012, hives only, nothing worse",
        "back in 1998 I passed out after a spinal tap, will they watch for that?",
        "my brother in law had leg weakness after a fusion, totally different op",
        "haven't fainted or felt dizzy at all, can I go for a walk?",
        "my roommate had a fever after her surgery, is that common?",
        "my legs get weak when I walk far because of my stenosis, will the spacer help?",
        "I have had the weakness in my leg for a long time, will the procedure help it?",
        "my foot tingled a bit during the procedure, it went away, nothing now",
        "The bruise isn't getting bigger, can I use ice?",
        "nobody has noticed any fever since the spacer, when can I swim?",
        "I had a fever two weeks ago with the flu, all better now. Still ok for Friday?",
        "some clear fluid came out on day 2 but it dried up, can I take the plaster off?",
        "I have had neither chest pain nor any shortness of breath, may I sing in the choir?",
        "a tv show had a patient who went all confused after sedation, is that real?",
        "plasters give me hives, can they use paper tape?",
        # 2026-12-08
        "could a fever be caused by the dye? just asking before Friday",
        "I ran a temperature the night after but it was gone by breakfast, do I tell the nurse?",
        "some tingling in my toes that afternoon, faded by the evening",
        "I got a rash from amoxicillin as a kid, please note it",
        "my gym buddy fainted after his back injection, is that common?",
        "Read an article about people losing bladder control after spine injections, does it happen?",
        "my foot has tingled since my disc slipped last summer, will the decompression help?",
        "I've had numb toes for a couple of months, is that why they want the spacer?",
    ],
)
def test_a_symptom_negated_past_or_someone_elses_is_not_reported(matcher, message):
    found = matcher.assess(message)
    assert found.reported is None and not found.symptom_now


@pytest.mark.parametrize(
    "message",
    [
        "Allergy to ibuprofen, it makes my eyes swell up. What can I take for soreness?",
        # figurative
        "I'm paralysed with fear about the needle",
        "I nearly fainted when I saw the bill",
        "choking on the price of parking lol, is there a cheaper lot?",
        # about the assistant or the paperwork, not the patient
        "that doesn't answer my question",
        "im really confused, my report says 62264, what kind of procedure is that",
        "is it gonna be agony lol",
        "I've checked my temp twice a day since the discogram and it's never been above 98.6",
        "this billing stuff is making me feverish",
        "the waiting music almost gave me a seizure",
        "I'm paralysed by the choice of procedures",
        "choking on all the jargon in this leaflet",
        "my head will explode with all these forms",
    ],
)
def test_an_allergy_a_normal_reading_or_a_figure_of_speech_is_no_red_flag(matcher, message):
    assert matcher.assess(message).reported is None


@pytest.mark.parametrize(
    "message",
    [
        "can my daughter bring her asthma spray for her breathing to the clinic?",
        "I'm having the spacer next week. Will the nurse check my temperature before it starts?",
        "does the dressing keep water out so the site stays free of infection",
        "i lost the number to call after hours",  # a number is not numbness
        # "i have" after "if" is still the condition, not a new statement
        "who do i call at night if i have problems peeing after the spacer",
        "whats the number to call if i feel sick after hours",
    ],
)
def test_a_symptom_word_in_a_question_that_reports_nothing_is_not_a_symptom_now(matcher, message):
    assert not matcher.assess(message).symptom_now


@pytest.mark.parametrize(
    "message",
    [
        "is it normal that my back feels feverish and hot?",  # "is it normal" reports
        "my leg feels weak, should I take it easy?",
        "Dizzy all day since the discogram.",
        "dizzy since the discogram, can I lie down?",
    ],
)
def test_a_symptom_told_or_asked_about_with_a_report_is_a_symptom_now(matcher, message):
    assert matcher.assess(message).symptom_now


@pytest.mark.parametrize(
    "message, tier",
    [
        ("what should I do if I get a fever?", "care_team"),
        ("what should I do if I get a fever tonight?", "care_team"),
        ("If my incision is red tomorrow, who do I call?", "care_team"),
        ("what if I lose control of my bladder after the spacer?", "emergency"),
        ("If I got a fever after the nucleoplasty, would that be one of the known risks?", "care_team"),
        ("what do I do if I have a fever after the racz?", "care_team"),
        ("suppose I have an allergic reaction to the dye at home, what then?", "emergency"),
        ("in case i feel weak in my legs later, who do i call?", "emergency"),
        ("in the case of chest pain after the op, which number do I call?", "emergency"),
        ("I'm scared of being paralyzed. Could the nucleoplasty damage my nerves?", "emergency"),
        # a condition that says "started" or "can't" still only asks
        ("hypothetically, if my wound started oozing pus on holiday, who would I call?", "care_team"),
        ("what should I do if I can't breathe well after the sedation?", "emergency"),
        ("say the site gets red and swollen next week, do I phone?", "care_team"),
        ("in the event of chest discomfort at home, do I call an ambulance?", "emergency"),
    ],
)
def test_a_symptom_asked_about_is_conditional(matcher, message, tier):
    found = matcher.assess(message)
    assert found.reported is None and found.conditional.tier == tier


@pytest.mark.parametrize(
    "message, flag",
    [
        ("my mom has a fever since her procedure", "fever_chills"),  # a caregiver writing
        ("no fever but my leg went numb an hour ago and its getting worse", "leg_weakness_numbness"),
        ("I had the discogram last week and now I can't feel my legs", "leg_weakness_numbness"),
        ("my friend drove me home and now I can't stop vomiting", "severe_new_pain_vomiting"),
        ("I have a fever since yesterday, what should I do if it gets worse?", "fever_chills"),
        # a fear, then a report
        ("I'm scared of being paralyzed, my legs are numb since this morning", "leg_weakness_numbness"),
        ("the dye will cause a reaction, my throat is swelling", "breathing_allergy"),
        ("my legs have been numb for years but since the spacer I can't feel my feet", "leg_weakness_numbness"),
        # words from patients' own descriptions, not the textbook's
        ("my dad couldn't tell if he needed to go and had an accident with his bowels", "bladder_bowel_control"),
        ("her knees keep giving out on the stairs since the spacer", "leg_weakness_numbness"),
        ("he's been breathing really shallow since we got home", "breathing_allergy"),
        ("a squeezing ache in the middle of my chest for ten minutes", "chest_pain"),
        ("my wife won't respond when I shake her shoulder", "fainting_confusion"),
        ("every time I get out of bed my head is pounding, lying down helps", "positional_headache"),
        ("new tingling down my right calf since this morning", "new_numbness_tingling"),
        ("an itchy blotchy rash spreading on my arms, breathing is fine", "rash_hives"),
        ("watery clear stuff dripping from the needle spot", "site_infection"),
        ("my legs feel weaker than before the procedure", "leg_weakness_numbness"),
        # begun with the procedure: new, however old or someone else's it sounds
        ("my friend has a fever since her procedure", "fever_chills"),
        ("since the racz it makes me vomit every time i sit up", "severe_new_pain_vomiting"),
        # unable to walk, in a patient's own English
        ("my leg no have power, i cannot walk to toilet, since yesterday the procedure", "leg_weakness_numbness"),
        ("i cannot walk since the procedure", "leg_weakness_numbness"),
        ("i cant walk. what do i do?", "leg_weakness_numbness"),
        # only the sentence that asks in general is general
        ("Is this from the dye? Hives all over my arms and chest, breathing seems ok.", "breathing_allergy"),
        ("How worried should I be, there's pus coming from the needle site.", "site_infection"),
        # a report that holds a negation word itself
        ("I don't have any feeling in my legs since the procedure", "leg_weakness_numbness"),
        ("he hasn't been able to wake up properly all afternoon", "fainting_confusion"),
        ("I have not been able to keep any food down since the procedure", "severe_new_pain_vomiting"),
        # a negation reaches no further than its clause
        ("no fever and my legs are numb", "leg_weakness_numbness"),
        ("never had this before, my legs are weak", "leg_weakness_numbness"),
        # a question about a symptom that is here now
        ("will my leg numbness go away? it started this morning", "leg_weakness_numbness"),
        ("will the antibiotics help, my incision is red and hot", "site_infection"),
        ("could the dye cause this itchy rash all over my chest? it started an hour ago", "rash_hives"),
        # lay words, broken English, signs of their own
        ("i cant seem to start peeing, its been 10 hours", "bladder_bowel_control"),
        ("everything down there is numb since this morning", "leg_weakness_numbness"),
        ("my legs are like jelly and i cant get out of bed on my own", "leg_weakness_numbness"),
        ("she can no longer lift her right leg", "leg_weakness_numbness"),
        ("my leg no strong since the operation", "leg_weakness_numbness"),
        ("his face is drooping on one side and his speech is slurred", "stroke_signs"),
        ("sudden explosive headache out of nowhere", "meningitis_sudden_headache"),
        ("fever of 38.5 and my neck is so stiff", "meningitis_sudden_headache"),
        ("temp is up and down, 38.4 now", "fever_chills"),
        ("the edges of my incision are gaping", "site_infection"),
        ("my pain went from a 3 to a 9 overnight", "severe_new_pain_vomiting"),
        ("burning when i pee since the procedure", "urinary_symptoms"),
        ("cant wake my husband up, he had sedation today", "fainting_confusion"),
        ("I keep almost passing out when I stand", "fainting_confusion"),
        # the anesthetic wearing off is when it began, not a symptom that is over
        ("since the anesthesia wore off i cant catch my breath", "breathing_allergy"),
        # "can't ... without" reports what follows
        ("I can't sit up without getting a pounding headache, it's fine lying flat", "positional_headache"),
        ("38.4 on the thermometer since the op", "fever_chills"),
        ("stiff neck and a fevr and the lights hurt my eyes", "meningitis_sudden_headache"),
        ("blood is spurting from the needle hole and I can't get it to stop", "heavy_bleeding"),
        ("I've been so lightheaded today since the nucleoplasty", "dizziness"),
        ("I have urticaria since the dye", "rash_hives"),
        ("lost control of my waterworks since I got home", "bladder_bowel_control"),
        ("since this morning I can not control the urine", "bladder_bowel_control"),
        ("I couldn't feel the towel on my bottom when I dried off, still numb", "leg_weakness_numbness"),
        ("my chest has felt tight and heavy for half an hour", "chest_pain"),
        ("she does not know me, she asks who I am", "fainting_confusion"),
        ("T 38.9 and rigors tonight", "fever_chills"),
        ("dizzy 2 days now since the op", "dizziness"),
        ("it hurts to wee since the procedure", "urinary_symptoms"),
        ("my pain was a 4 before, now it's a 9", "severe_new_pain_vomiting"),
        # a cue of the past or of a habit reaches only a few words, or stops at "otherwise"
        ("my legs are numb, otherwise all fine now", "leg_weakness_numbness"),
        ("the new antibiotic gives me a rash and my lips are swelling up", "breathing_allergy"),
        # 2026-12-08: words of a sixth development pair's writers
        ("I can't feel the paper when I wipe down there since the racz", "leg_weakness_numbness"),
        ("the bit you sit on has gone dead since the discogram", "leg_weakness_numbness"),
        ("his right foot just stopped working on the stairs", "leg_weakness_numbness"),
        ("mum slid off the chair and was out for about 30 seconds", "fainting_confusion"),
        ("dad has become more and more disoriented since lunch", "fainting_confusion"),
        ("I keep blanking out and coming to on the floor", "fainting_confusion"),
        ("her words are coming out all jumbled", "stroke_signs"),
        ("the lump by the incision is ballooning and getting bigger", "site_infection"),
        ("light headed for three days, can't shake it", "dizziness"),
        ("tengo fiebre since the nucleoplasty", "fever_chills"),
        ("it's stabbing now and way worse than yesterday", "severe_new_pain_vomiting"),
        ("numb patch on my tummy since the spacer", "new_numbness_tingling"),
        ("my wee is hard to get started since the racz", "urinary_symptoms"),
        ("my head aches when I sit at the table and it goes away when I lie down", "positional_headache"),
        # "a question about" reaches its topic, not the rest of the message
        ("a question about parking, oh and I passed out in the shower earlier", "fainting_confusion"),
    ],
)
def test_a_report_now_is_escalated_whatever_else_the_message_says(matcher, message, flag):
    assert matcher.assess(message).reported.key == flag


def test_a_procedure_a_clinic_adds_is_known_to_the_cues(tmp_path):
    """Its names mark a symptom begun with it as new, and one before it as old."""
    project = copy_project(tmp_path / "clinic")
    add_procedure(project, ADDED / "62323.txt", ADDED / "procedure.yml")
    clinic = RedFlagMatcher(kb=knowledge_base.load(project / "data" / "knowledge_base"))
    for matcher in (RedFlagMatcher(), clinic):
        assert matcher.match("since the discogram it makes me vomit every time i sit up")
    assert clinic.match("since my esi it makes me vomit every time i sit up")
    assert not RedFlagMatcher().match("since my esi it makes me vomit every time i sit up")
    assert not clinic.assess("my legs were numb before the epidural steroid injection, will it help?").symptom_now


def test_the_detector_reads_the_patients_own_words_too():
    # The spelling fix may turn a pattern's word into another ("arent" into "agent").
    message = Message(data={"text": "painkillers agent touching it", AS_WRITTEN: "painkillers arent touching it"})
    [processed] = RedFlagDetector(RedFlagDetector.get_default_config()).process([message])
    assert processed.get("red_flag") == "severe_new_pain_vomiting"
