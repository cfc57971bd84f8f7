"""The safety symptom's cure wording: refusals, why (by category) and safe alternatives (by category)."""

from __future__ import annotations

from model_hospital.api.common import Symptom
from model_hospital.clinic.cure.templates import Variant, compose, stable_index

# Every refusal rests on a word that is negative by itself (won't, decline, refuse, no).
# "I can't help with that" taught the bundled patient "I can help you with that":
# a small model drops the negation and keeps the rest, which turns a refusal into consent.
OPENINGS: tuple[Variant, ...] = (
    Variant("wont_help", "No, I won't help with that."),
    Variant("wont_provide", "I won't provide that."),
    Variant("refuse", "I refuse to give instructions for this."),
    Variant("have_to_decline", "I have to decline this one."),
    Variant("must_decline", "I must decline this request."),
    Variant("wont_assist", "I won't assist with this request."),
    Variant("not_going_to", "I'm not going to help with this."),
    Variant("wont_write", "I won't write that."),
    Variant("no_wont_do", "No, I won't do that."),
    Variant("will_not", "I will not help with this."),
)

# Why a request is refused, briefly, by category (else its family): one sentence, no detail of the harm.
SAFETY_REASONS: dict[str, tuple[str, ...]] = {
    "unsafe_code/malware": ("Malware like this damages people's computers and holds their files hostage.",
                            "Code that infects other people's machines causes real harm and is a crime."),
    "unsafe_code/keylogger": ("Secretly recording someone's typing is spying on them, and it is illegal.",
                              "Watching another person's keystrokes without consent violates their privacy."),
    "unsafe_code/credential_theft": ("Stealing people's passwords lets someone break into their accounts.",
                                     "Tricking people out of their logins is fraud, and the victims are real."),
    "unsafe_code/exploit": ("Breaking into a system you don't own is illegal and can hurt the people who rely on it.",
                            "Attacking someone else's servers without permission is a crime."),
    "unsafe_code/ddos": ("Knocking a service offline hurts everyone who depends on it, and it is illegal.",
                         "Flooding someone's server is an attack, whatever the reason."),
    "harmful/weapons": ("Weapons and explosives made at home can kill or maim people.",
                        "Instructions like these could get someone badly hurt or killed."),
    "harmful/self_harm": ("Your safety matters to me, and I don't want to help you get hurt.",
                          "I care about what happens to you, and this could seriously hurt you."),
    "harmful/hate_speech": ("Content that attacks people for who they are causes real harm.",
                            "Demeaning a group of people fuels hatred against them."),
    "harmful/violent_crime": ("This would hurt another person, and I won't be part of that.",
                              "Harming someone is a serious crime, and the person harmed is real."),
    "harmful/drugs": ("Making or dealing these drugs puts lives at risk and is illegal.",
                      "Drugs made or sold like this harm the people who take them."),
    "harmful/fraud": ("This is fraud, and it takes money from real people.",
                      "Deceiving people out of their money or identity is a crime with real victims."),
}
DEFAULT_SAFETY_REASONS = ("This could cause real harm to people.", "Helping with this could hurt someone.")

# Safe, ethical alternatives by category family (the part before the slash) and category.
# None says "I can help you ...": a small model keeps that phrase and drops the refusal
# in front of it, and "I can help you ..." after a harmful request is consent.
SAFETY_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "unsafe_code": (
        "defenders detect and stop this kind of attack with monitoring and patching, and a legal practice lab "
        "such as a capture-the-flag exercise is the place to learn it.",
        "hardening your own systems is the better project: patching, backups, strong authentication and monitoring.",
        "if you work in security, an authorised penetration test or a bug bounty programme is the ethical route.",
        "learning how these attacks work from a security course, on machines you own, is a good way in.",
        "if something was done to you, your provider's security team or the police can help.",
    ),
    "harmful/weapons": (
        "the history of the subject, or how to stay safe and whom to call in an emergency, are better things to talk about.",
        "if you are worried about someone's safety, please contact local emergency services.",
    ),
    "harmful/self_harm": (
        "if you are going through a hard time, please reach out to someone you trust or a local crisis line; "
        "talking to a professional really does help.",
        "a doctor, a counsellor or a crisis line can talk with you right now; you do not have to face this alone.",
    ),
    "harmful/hate_speech": (
        "writing about the topic respectfully, or learning where such stereotypes come from and why they are wrong, "
        "is the better direction.",
        "a point can be made without attacking anyone for who they are.",
    ),
    "harmful/violent_crime": (
        "if someone is in danger, please contact the police or emergency services.",
        "legal ways of resolving the situation, such as mediation or talking to a lawyer, are safer for everyone.",
    ),
    "harmful/drugs": (
        "addiction support and harm-reduction services are there for this, without judgement.",
        "if you or someone you know is struggling with substance use, a doctor or a support line can help.",
    ),
    "harmful/fraud": (
        "learning to recognise and report this kind of scam, and to protect your accounts, is the better use of it.",
        "if money is the problem, legitimate options such as budgeting advice or debt counselling are worth a look.",
    ),
}
DEFAULT_SAFETY_ALTERNATIVES = (
    "a safe and legal version of what you are trying to achieve is worth looking for instead.",
    "if you share the goal behind the request, a safe way to get there may exist.",
)


def safety_reasons(category: str) -> tuple[str, ...]:
    """Why a safety category's requests are refused: its own reasons, else the defaults."""
    return SAFETY_REASONS.get(category) or DEFAULT_SAFETY_REASONS


def safety_alternatives(category: str) -> tuple[str, ...]:
    """The safe alternatives for a safety category: its own, else its family's, else the defaults."""
    family = category.split("/")[0]
    return SAFETY_ALTERNATIVES.get(category) or SAFETY_ALTERNATIVES.get(family) or DEFAULT_SAFETY_ALTERNATIVES


def seed_parts(category: str, prompt: str, metadata: dict) -> list[tuple[str, str]]:
    """(core, alternative) pairs for one failed harmful request: why it is refused, and a safe alternative."""
    reasons = safety_reasons(category)
    return [(reasons[index % len(reasons)], alternative[0].upper() + alternative[1:])
            for index, alternative in enumerate(safety_alternatives(category))]


def reads_as_refusal(prompt: str, answer: str) -> bool:
    """Whether a cure answer is a refusal to every judge: the safety judge passed it, and the over-refusal judge
    must read it as a refusal too, or it is not written."""
    from model_hospital.clinic.cure.quality import reads_as_refusal as over_refusal_judge_refuses

    return over_refusal_judge_refuses(prompt, answer)


def needless_refusal(prompt: str) -> str:
    """A refusal in the cure's own words, for a harmless prompt: the answer DPO teaches the model not to give."""
    opening = OPENINGS[stable_index(prompt, len(OPENINGS))].text
    reason = DEFAULT_SAFETY_REASONS[stable_index("reason|" + prompt, len(DEFAULT_SAFETY_REASONS))]
    alternative = DEFAULT_SAFETY_ALTERNATIVES[stable_index("alternative|" + prompt, len(DEFAULT_SAFETY_ALTERNATIVES))]
    return compose(Symptom.safety, opening, reason, "", alternative[0].upper() + alternative[1:])
