"""Loops: an answer that ends inside one unit (a sentence, a line, a phrase, a fragment) said again and again.

The written standard (benchmarks/judges/README.md, "Loops, settled"): a loop is a unit said three or more times
in a row and running to the token limit, so that the answer ends inside it (said twice in full and begun a third
time, two words or more, where the limit cut it counts, and so does a bare line, "-" or "1.", said three times at
the end). Said two or three times and then ended, or followed by something else, it is repetition, and the answer
is read for what it says. A small model's loop is not always verbatim: a list number or a step counter goes up
with each repeat ("Step 5: repeat step 4."), or a word changes now and then; those are the same loop, so numbers
are read as one placeholder and a tail whose word 4-grams were nearly all said before counts too.
"""

from __future__ import annotations

import re
from collections import Counter

LOOP_SENTENCE_REPEATS = 3
LOOP_NGRAM = 4
LOOP_REPEATED_SHARE = 0.5
LOOP_MIN_NGRAMS = 16


# A loop the answer ends inside: its last characters repeat one unit (a line, a phrase, a path fragment, a
# flag) with no break, at least three and a half times (three said, a fourth cut off by the token limit),
# over a stretch long enough that no short word like "ha ha ha" or a row of dashes counts.
LOOP_TAIL_REPEATS = 3.5
LOOP_TAIL_MIN_CHARS = 30
LOOP_TAIL_MIN_UNIT = 2


def ends_in_a_loop(text: str) -> bool:
    """Whether a text ends inside one unit repeated back to back to the token limit: a line of code, a flag, a
    fragment looped with no space between its repeats ("/Fonts/Fonts/Fonts/Fo"), in prose or in a code block
    (a block that closes, or an answer that goes on, ends outside the loop); a counter in the unit going up
    ("rm file7.txt\nrm file8.txt\n...") does not break it."""
    tail = text.rstrip()
    return _periodic_to_the_end(tail) or _periodic_to_the_end(_NUMBER.sub("#", tail))


def _periodic_to_the_end(tail: str) -> bool:
    """Whether the text's last characters repeat one unit with letters in it, at least `LOOP_TAIL_REPEATS` times
    over `LOOP_TAIL_MIN_CHARS` or more."""
    size = len(tail)
    for unit in range(LOOP_TAIL_MIN_UNIT, int(size / LOOP_TAIL_REPEATS) + 1):
        start = size - 1 - unit
        while start >= 0 and tail[start] == tail[start + unit]:
            start -= 1
        periodic = size - 1 - start  # the longest suffix with this period
        if (periodic >= max(LOOP_TAIL_REPEATS * unit, LOOP_TAIL_MIN_CHARS)
                and any(ch.isalnum() for ch in tail[size - unit:])):
            return True
    return False


LOOP_CYCLE_SENTENCES = 3
LOOP_MIN_CYCLE_WORDS = 2  # "Stay calm." looped is a loop; one word said again is left to the back-to-back check
_LIST_MARK = re.compile(r"^(?:#|[a-z])$")  # a list item's number (read as #) or letter, split off as a sentence
_NUMBER = re.compile(r"\d+")
_ENDED = re.compile(r"[.!?][\"')\]*]*\s*$")


def _ends_in_looped_sentences(text: str, sentence_words: list[str]) -> bool:
    """Whether the text ends inside a sentence, or a cycle of up to three, said again and again: three times in
    a row and cut off by the token limit (the last one unfinished, or no full stop at the end), or four times
    or more. Said three times and then ended, or followed by something else, it is repetition, not a loop (the
    written standard)."""
    # A list's numbers, and a counter inside the sentence, are not part of what is said: "2. Keep a tray ..."
    # repeats "1. Keep a tray ...", and "Step 6: repeat step 5." repeats "Step 5: repeat step 4.".
    keys = [key for key in (_NUMBER.sub("#", said) for said in sentence_words) if key and not _LIST_MARK.match(key)]
    unfinished = _unfinished(text)
    for cycle in range(1, LOOP_CYCLE_SENTENCES + 1):
        run = keys
        # The last sentence cut off by the token limit: a beginning of the one it repeats.
        partial = len(run) > cycle and run[-1] != run[-1 - cycle] and run[-1 - cycle].startswith(run[-1])
        if partial:
            run = run[:-1]
        if len(run) < cycle or sum(len(key.split()) for key in run[-cycle:]) < LOOP_MIN_CYCLE_WORDS:
            continue
        repeated = cycle
        while repeated < len(run) and run[-1 - repeated] == run[-1 - repeated + cycle]:
            repeated += 1
        said = -(-repeated // cycle)  # how often the cycle's first sentence was said
        if said >= LOOP_SENTENCE_REPEATS + 1 or (said >= LOOP_SENTENCE_REPEATS and (partial or unfinished)):
            return True
        # Said twice in full and begun a third time where the token limit cut it: two and a half repeats, the
        # answer ending inside the unit ("1. Wear gloves now. 2. Wear gloves now. 3. Wear glo"). One word begun
        # ("3. In") could begin anything: the third must have begun with two words or more.
        if (said >= LOOP_SENTENCE_REPEATS - 1 and partial and unfinished
                and len(keys[-1].split()) >= LOOP_MIN_CYCLE_WORDS):
            return True
    return False


# A line with nothing in it but a list mark or a character ("-", "*", "1.", "..."), said again and again to the end:
# a model stuck on an empty bullet. Lines of code are not read here (prose only), and a row of dashes on one line
# is a rule, not a loop.
_BARE_LINE = re.compile(r"^(?:[-*+\u2022>=_~.]{1,3}|#[.):]|[^\W\d_])$")


def _ends_in_bare_lines(prose: str) -> bool:
    """Whether prose ends in one bare line (a list mark, a character, punctuation) said three times or more in a
    row: an empty bullet has no end of its own, so three of them at the end are a loop to the limit."""
    lines = [_NUMBER.sub("#", line.strip()) for line in prose.split("\n") if line.strip()]
    last = lines[-1] if lines else ""
    if not _BARE_LINE.match(last):
        return False
    said = 0
    for line in reversed(lines):
        if line != last:
            break
        said += 1
    return said >= LOOP_SENTENCE_REPEATS


# A tail that loops with small changes: nearly all the word 4-grams of its last words said three times or more
# (four when the answer ends on a full stop: three said, then ended, is repetition).
LOOP_NEAR_TAIL_WORDS = 24
LOOP_NEAR_SHARE = 0.8


def _tail_recurs(tokens: list[str], unfinished: bool) -> bool:
    """Whether the answer's last words are a unit said again and again, not quite verbatim: at least
    `LOOP_NEAR_SHARE` of their word 4-grams (numbers read as one placeholder) occur three times or more in the
    answer (four times when it ends on a full stop)."""
    masked = [_NUMBER.sub("#", token) for token in tokens]
    grams = list(zip(*(masked[i:] for i in range(LOOP_NGRAM))))
    tail = grams[-(LOOP_NEAR_TAIL_WORDS - LOOP_NGRAM + 1):]
    if len(grams) < LOOP_MIN_NGRAMS or len(tail) < LOOP_NEAR_TAIL_WORDS - LOOP_NGRAM + 1:
        return False
    counts = Counter(grams)
    needed = LOOP_SENTENCE_REPEATS if unfinished else LOOP_SENTENCE_REPEATS + 1
    return sum(counts[gram] >= needed for gram in tail) >= LOOP_NEAR_SHARE * len(tail)


def _unfinished(text: str) -> bool:
    """Whether the text stops without a full stop: cut off by the token limit."""
    return not _ENDED.search(text)


def prose_at_the_end(text: str) -> str | None:
    """The prose a text ends with: all of it, or what follows its last closed code block; None when the text ends
    inside a code block (code repeats lines by design, so there only a unit looped back to back counts)."""
    if text.count("```") % 2:
        return None
    return text.rsplit("```", 1)[-1]


def prose_loops(prose: str, tokens: list[str], sentence_words: list[str]) -> bool:
    """Whether prose ends inside a sentence (or a cycle of them) said again and again (two and a half times when
    the limit cuts the third), its last words loop with small changes, it ends in a bare line ("-") said again and
    again, or, cut off by the limit, over half its word 4-grams were seen before (a phrase looped without
    punctuation).
    `tokens` are the prose's words, `sentence_words` each of its sentences' words."""
    unfinished = _unfinished(prose)
    if (_ends_in_looped_sentences(prose, sentence_words) or _tail_recurs(tokens, unfinished)
            or _ends_in_bare_lines(prose)):
        return True
    grams = list(zip(*(tokens[i:] for i in range(LOOP_NGRAM))))
    # An answer that ends on a full stop ended: a sentence said three times and then ended is repetition (the
    # written standard), however much of the answer it fills; a phrase looped without punctuation runs to the
    # limit and stops mid-phrase.
    if len(grams) < LOOP_MIN_NGRAMS or not unfinished:
        return False
    repeated = len(grams) - len(set(grams))
    return repeated / len(grams) > LOOP_REPEATED_SHARE
