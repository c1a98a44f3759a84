"""Language of an article: seeded langdetect plus Arabic-script evidence.

langdetect is random by design (it samples n-grams).  We make it deterministic without touching
global state: :class:`LanguageDetector` owns a private ``DetectorFactory`` *instance* whose
``seed`` is set to 0; every ``Detector`` it creates seeds its own ``random.Random`` from that
seed (langdetect 1.0.9 keeps one ``random.Random`` per detector).  The class attribute
``DetectorFactory.seed`` and the ``random`` module are left alone, so other code that uses
langdetect sees no change.

langdetect confuses Arabic, Persian and Urdu on short text, so for text written mostly in the
Arabic script the choice among ``ar`` / ``fa`` / ``ur`` rests on script evidence
(:func:`_script_scores`), which wins when decisive (at least 2 points and twice the runner-up):

* frequent function words, which differ completely between the three languages
  (Arabic في على إلى أن التي ..., Persian از در به که را است ..., Urdu کے کی میں ہے اور ...),
  two points each;
* letters: Urdu-only letters (ٹ ڈ ڑ ں ے ھ ہ) for Urdu; letters Arabic does not use (پ چ ژ گ) for
  Persian (and, less, Urdu); the endings ة ى for Arabic; and, weighing little, the keyboard forms
  of yeh and kaf (ی ک Persian/Urdu, ي ك Arabic).

When the evidence is not decisive, the spelling still rules languages out (no Urdu without
Urdu-only letters; no Arabic when Persian letters appear and no Arabic form does), and langdetect's
best of what remains decides.

Text with fewer than :data:`MIN_LETTERS` letters is ``und`` (undetermined).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

from crawler.core.arabic import arabic_share
from crawler.core.lexicon import FUNCTION_WORDS

__all__ = ["LanguageResult", "LanguageDetector", "detect_language", "MIN_LETTERS"]

MIN_LETTERS = 20
"""Below this many letters a language guess is noise: the answer is ``und``."""

_ARABIC_SCRIPT_MAJORITY = 0.5

# Function words of each language (crawler.core.lexicon), in the spellings its keyboards produce.
_FUNCTION_WORDS: dict[str, frozenset[str]] = FUNCTION_WORDS
# Letters as evidence, with weights: letters foreign to Arabic weigh most; the yeh/kaf forms, which
# depend on the writer's keyboard as much as on the language, weigh least.
_URDU_ONLY = frozenset("ٹڈڑںےۓھہ")
_PERSIAN_URDU = frozenset("پچژگ")  # Persian and Urdu letters Arabic does not use
_PERSIAN_FORMS = frozenset("یک")  # Persian/Urdu yeh and keheh
_ARABIC_ENDINGS = frozenset("ةى")  # taa marbuta, alef maksura: Arabic spelling
_ARABIC_FORMS = frozenset("يك")  # Arabic yeh and kaf (also on Persian pages typed on Arabic keyboards)
_LETTER_GROUPS = (_URDU_ONLY, _PERSIAN_URDU, _PERSIAN_FORMS, _ARABIC_ENDINGS, _ARABIC_FORMS)
_WORD = re.compile(r"[^\W\d_]+")
_EVIDENCE_MARGIN = 2.0
_LANGDETECT_CHARS = 1000  # langdetect samples n-grams; a news article's first 1,000 characters suffice


@dataclass(frozen=True)
class LanguageResult:
    """ISO 639-1 code (``und`` when undetermined), a confidence in [0, 1], and the Arabic-script share."""

    lang: str
    confidence: float
    arabic_share: float


@lru_cache(maxsize=1)
def _profiles() -> DetectorFactory:
    """A private langdetect factory with all profiles loaded and seed 0 (loaded once, read-only)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0  # instance attribute: the class default (None) stays as it is
    return factory


def load_profiles() -> None:
    """Load langdetect's language profiles now (else the first text detected loads them)."""
    _profiles()


@lru_cache(maxsize=4096)
def _ngram_char(ch: str) -> str:
    """langdetect's per-character normalisation (:meth:`NGram.normalize`), remembered."""
    normalized: str = NGram.normalize(ch)
    return normalized


@lru_cache(maxsize=65536)
def _word_ngrams(word: str, spaced: bool) -> tuple[str, ...]:
    """The n-grams langdetect's :class:`NGram` window yields over one word (normalised characters,
    no space inside), in order, before the profile filter; ``spaced``: a space follows the word.

    The window restarts at every space, so a word's n-grams do not depend on its neighbours:
    they can be remembered per word.
    """
    out: list[str] = []
    grams, capital = " ", False
    for ch in word + " " if spaced else word:
        last = grams[-1]
        if last == " ":
            grams, capital = " ", False
        elif len(grams) >= NGram.N_GRAM:
            grams = grams[1:]
        grams += ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if not capital:
            out += [w for w in (grams[-n:] for n in range(1, min(len(grams), NGram.N_GRAM) + 1)) if w != " "]
    return tuple(out)


_SPACES = re.compile(" +")


@lru_cache(maxsize=4)
def _rows(factory: DetectorFactory) -> Callable[[str], np.ndarray]:
    """The profile row (one probability per language) of an n-gram, as a read-only array, for the
    profiles of ``factory``; the n-grams drawn most recently are kept (news reuses its words)."""
    table = factory.word_lang_prob_map

    @lru_cache(maxsize=16384)
    def row(ngram: str) -> np.ndarray:
        values = np.array(table[ngram], dtype=np.float64)
        values.flags.writeable = False
        return values

    return row


class _FastDetector(Detector):  # type: ignore[misc]  # langdetect ships no types: Detector is Any
    """langdetect's :class:`Detector` with its hot loops (append, n-grams, trials) written tighter.

    Same n-grams in the same order, the same random draws and the same floating-point
    operations in the same order as langdetect 1.0.9, so the probabilities are identical;
    only the Python overhead (per-character method calls, per-language loops, which numpy runs)
    is gone.
    """

    def __init__(self, factory: DetectorFactory) -> None:
        super().__init__(factory)
        self._row = _rows(factory)

    def append(self, text: str) -> None:
        text = NGram.normalize_vi(self.MAIL_RE.sub(" ", self.URL_RE.sub(" ", text)))
        # langdetect copies the first max_text_length characters one by one, skipping a space
        # that follows a space: a run of spaces becomes one.
        self.text += _SPACES.sub(" ", text[: self.max_text_length])

    def _extract_ngrams(self) -> list[str]:
        known = self.word_lang_prob_map
        words = "".join(map(_ngram_char, self.text)).split(" ")
        result: list[str] = []
        for n, word in enumerate(words):
            if word:
                result += [w for w in _word_ngrams(word, n < len(words) - 1) if w in known]
        return result

    def _detect_block(self) -> None:
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        row = self._row
        choice = self.random.choice
        langprob = [0.0] * len(self.langlist)
        self.random.seed(self.seed)
        for _ in range(self.n_trial):
            prob = np.array(self._init_probability(), dtype=np.float64)
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            # langdetect draws one n-gram per step and normalises after steps 0, 5, 10, ...; the
            # draws do not depend on the probabilities, so the five steps between two checks are
            # drawn together.  Each array operation is the very float operation langdetect makes
            # per language, in the same order (numpy multiplies and divides element by element;
            # the total is Python's own sum over the values, as langdetect takes it).
            last = 0
            draws = [choice(ngrams)]
            while True:
                for ngram in draws:
                    prob *= weight + row(ngram)
                prob /= sum(prob.tolist())
                if prob.max() > self.CONV_THRESHOLD or last >= self.ITERATION_LIMIT:
                    break
                last += 5
                draws = [choice(ngrams) for _ in range(5)]
            for j, p in enumerate(prob.tolist()):
                langprob[j] += p / self.n_trial
        self.langprob = langprob


class LanguageDetector:
    """Deterministic language detection for news text (see the module docstring)."""

    def __init__(self, factory: DetectorFactory | None = None) -> None:
        self._factory = factory or _profiles()

    def langdetect(self, text: str) -> list[tuple[str, float]]:
        """langdetect's probabilities, best first; empty when it finds no features."""
        if not self._factory.langlist:
            self._factory.create()  # raises langdetect's own "Need to load profiles." error
        detector = _FastDetector(self._factory)
        detector.set_max_text_length(_LANGDETECT_CHARS)
        detector.append(text)
        try:
            return [(p.lang, p.prob) for p in detector.get_probabilities()]
        except LangDetectException:
            return []

    def detect(self, text: str) -> LanguageResult:
        """Detect the language of ``text``."""
        share = arabic_share(text)
        letters = sum(map(str.isalpha, text))
        if letters < MIN_LETTERS:
            return LanguageResult("und", 0.0, share)
        if share >= _ARABIC_SCRIPT_MAJORITY:
            decided = _decisive_script_language(text)
            if decided is not None:  # the script evidence settles it: no need for langdetect
                return LanguageResult(decided[0], round(decided[1], 4), share)
            probs = self.langdetect(text)
            lang, evidence = _arabic_script_language(text, probs)
            prob = dict(probs).get(lang, 0.0)
            return LanguageResult(lang, round(max(prob, evidence), 4), share)
        probs = self.langdetect(text)
        if not probs:
            return LanguageResult("und", 0.0, share)
        lang, prob = probs[0]
        return LanguageResult(lang, round(prob, 4), share)


def _letters(text: str) -> dict[frozenset[str], int]:
    """How many letters of each evidence group :data:`_LETTER_GROUPS` the text holds."""
    counts = Counter(text)
    return {group: sum(counts[c] for c in group) for group in _LETTER_GROUPS}


def _script_scores(text: str, letters: dict[frozenset[str], int]) -> dict[str, float]:
    """Evidence for ar / fa / ur: two points per function word, plus weighted letter counts."""
    words = Counter(_WORD.findall(text))
    score = {lang: 2.0 * sum(words[w] for w in vocab) for lang, vocab in _FUNCTION_WORDS.items()}
    score["ar"] += letters[_ARABIC_ENDINGS] + 0.25 * letters[_ARABIC_FORMS]
    score["fa"] += 2 * letters[_PERSIAN_URDU] + 0.25 * letters[_PERSIAN_FORMS]
    score["ur"] += 2 * letters[_URDU_ONLY] + letters[_PERSIAN_URDU] + 0.25 * letters[_PERSIAN_FORMS]
    return score


def _possible(letters: dict[frozenset[str], int]) -> list[str]:
    """The languages the spelling allows: no Urdu without Urdu-only letters; no Arabic when Persian
    letters or forms appear and no Arabic form (ي ك ة ى) does."""
    possible = ["ar", "fa", "ur"]
    if not letters[_URDU_ONLY]:
        possible.remove("ur")
    persian = letters[_PERSIAN_URDU] + letters[_PERSIAN_FORMS]
    if persian and not letters[_ARABIC_ENDINGS] + letters[_ARABIC_FORMS]:
        possible.remove("ar")
    return possible


def _decisive_script_language(text: str) -> tuple[str, float] | None:
    """ar / fa / ur with a confidence when the script evidence alone is decisive (at least
    2 points and twice the runner-up, among the languages the spelling allows), else ``None``."""
    letters = _letters(text)
    scores = _script_scores(text, letters)
    (best, top), (_, second) = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:2]
    if top >= 2 and top >= _EVIDENCE_MARGIN * second:
        return best, top / sum(scores.values())
    return None


def _arabic_script_language(text: str, probs: list[tuple[str, float]]) -> tuple[str, float]:
    """Choose ar / fa / ur for Arabic-script text; return the language and a confidence.

    Decisive script evidence (:func:`_script_scores`: at least 2 points and twice the runner-up)
    wins; otherwise langdetect's best among the languages the spelling allows (:func:`_possible`);
    otherwise the first of those (Arabic, the script's default here, when it is allowed).
    """
    decided = _decisive_script_language(text)
    if decided is not None:
        return decided
    possible = _possible(_letters(text))
    candidates = [(lang, p) for lang, p in probs if lang in possible]
    if candidates:
        return candidates[0]
    return possible[0], 0.5


def detect_language(text: str) -> LanguageResult:
    """Detect the language of ``text`` with a default :class:`LanguageDetector`."""
    return LanguageDetector().detect(text)
