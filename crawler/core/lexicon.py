"""Every Arabic (and Persian, Urdu) word list of the core, in one place.

Data only: tuples, frozensets and dicts of plain words, no regular-expression syntax.  The modules
that use a list build their own compiled patterns and lookup keys from it, where they use them.

Spelling: lists marked *normalised* are written the way :func:`crawler.core.arabic.normalize`
folds text (ا for أإآ, ي for ى, ه for ة, no diacritics), because they are matched against folded
lines; the others are written as published and folded by the module that reads them.
"""
from __future__ import annotations

# --- clitics (crawler.core.arabic) -------------------------------------------------------------

# The definite article and the clitics that attach to it, longest first: stripped from search
# tokens (light stemming in the spirit of Larkey's light10).
ARTICLE_PREFIXES: tuple[str, ...] = ("وال", "بال", "كال", "فال", "لل", "ال")
DEFINITE_ARTICLE = "ال"
# The conjunction "and", stripped from the front of a word where the word stands alone.
CONJUNCTION_WAW = "و"

# --- function words (crawler.core.language, crawler.core.decode) ------------------------------

# Very frequent words, in the spellings each language's keyboards produce (Arabic typed on a
# Persian keyboard gets ی/ک, Egyptian typing ى for final ي): they tell the three languages of the
# Arabic script apart (crawler.core.language), and, together, real text from a wrong code page,
# whose output is Arabic-looking letters in impossible combinations (crawler.core.decode).
# Each list holds only words that mark its own language.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "ar": frozenset(
        "في فی فى على علی علي إلى الى إلی الی أن إن ان عن مع هذا هذه التي التی التى الذي الذی الذى "
        "كان کان قد لا لم لن ثم حيث حیث إذا منذ عند كما کما أو بين حتى خلال قال وقال وفي وفی ومن وأن "
        "له لها".split()
    ),
    "fa": frozenset(
        "از در به که كه را این آن است با برای براي می مي شد شده های هاي کرد كرد خود "
        "بود نیز نيز یک يك تا".split()
    ),
    "ur": frozenset("کے کی میں ہے ہیں کا سے کو نے پر اور یہ وہ گیا کیا ہو تھا تھی".split()),
}
# Frequent words that Arabic and Persian share ("من" from / I, "ما" what / we, "او" or / he, "بعد"
# after, "قبل" before): evidence of the Arabic script's languages, but not of which one.
SHARED_FUNCTION_WORDS: frozenset[str] = frozenset("من ما او بعد قبل".split())

# --- boilerplate lines (crawler.core.boilerplate; all normalised) ------------------------------

# "read also / see also" lead-ins: the verbs, then the words that may follow them.
READ_ALSO_VERBS: tuple[str, ...] = (
    "اقرا", "قرا", "طالع", "شاهد", "تابع", "اطلع", "يهمك", "قد يهمك", "انظر", "راجع", "اقرئي", "اقرأ",
)
READ_ALSO_WORDS: tuple[str, ...] = ("ايضا", "كذلك", "المزيد", "اكثر")
# Headings of related-story boxes: "<lead> <nouns> <qualifier>" ("مقالات ذات صلة"), whole lines,
# "most read ...", "latest ...", and their English forms.
RELATED_LEADS: tuple[str, ...] = ("عرض", "اقرا", "المزيد من")
RELATED_NOUNS: tuple[str, ...] = ("اخبار", "مواضيع", "موضوعات", "مقالات", "قصص", "تقارير", "روابط", "فيديوهات")
RELATED_QUALIFIERS: tuple[str, ...] = (
    "ذات الصله", "ذات صله", "متعلقه", "مشابهه", "مقترحه", "اخري", "مرتبطه", "قد تهمك", "ذات علاقه",
)
RELATED_LINES: tuple[str, ...] = (
    "ذات صله", "قد يعجبك ايضا", "قد يهمك ايضا", "اخترنا لك", "ننصحك بقراءه", "لا تفوت", "مقالات قد تهمك",
    "اقرا المزيد", "المزيد",
)
MOST_WORDS: tuple[str, ...] = ("اكثر", "الاكثر")
MOST_WHAT: tuple[str, ...] = ("قراءه", "مشاهده", "تداولا", "تعليقا", "شعبيه", "شيوعا")
LATEST_WORDS: tuple[str, ...] = ("اخر", "احدث", "اهم", "ابرز")
LATEST_WHAT: tuple[str, ...] = ("الاخبار", "الاخبار العاجله", "المقالات", "الموضوعات", "الفيديوهات")
RELATED_ENGLISH: tuple[str, ...] = (
    "related", "read also", "read more", "see also", "more news", "more stories", "most read", "latest news",
)
# Share and print tools: phrases found anywhere, then words that open such a line.
SHARE_PHRASES: tuple[str, ...] = ("تم نسخ الرابط", "نسخ الرابط", "انسخ الرابط", "رابط مختصر", "الرابط المختصر")
SHARE_WORDS: tuple[str, ...] = ("شارك", "شاركوا", "مشاركه", "شارك هذا", "شارك الخبر", "شارك المقال")
PRINT_WORDS: tuple[str, ...] = (
    "اطبع", "طباعه", "ارسل لصديق", "ارسل الي صديق", "حفظ", "تكبير الخط", "تصغير الخط", "حجم الخط",
)
SHARE_ENGLISH: tuple[str, ...] = ("share", "print", "email", "copy link", "link copied", "tweet")
# "Follow us on ...": the verbs, the places, "subscribe / download" verbs and what they offer.
FOLLOW_VERBS: tuple[str, ...] = ("تابعونا", "تابعوا", "تابعنا", "تابع")
FOLLOW_US: tuple[str, ...] = ("تابعونا", "تابعنا")
FOLLOW_PREPOSITIONS: tuple[str, ...] = ("علي", "عبر", "في")
SOCIAL_PLACES: tuple[str, ...] = (
    "فيسبوك", "فيس بوك", "تويتر", "انستغرام", "انستجرام", "انستقرام", "يوتيوب", "تيليجرام", "تليجرام", "تلغرام",
    "تلجرام", "واتساب", "واتس اب", "جوجل نيوز", "غوغل نيوز", "اكس", "تيك توك", "منصه", "قناتنا", "حساباتنا",
    "صفحتنا", "x",
)
SUBSCRIBE_VERBS: tuple[str, ...] = ("اشترك", "اشتركوا", "للاشتراك", "انضم", "انضموا", "حمل", "حملوا", "نزل")
SUBSCRIBE_WHAT: tuple[str, ...] = ("النشره", "قناه", "تطبيق", "التطبيق", "خدمه", "الرسائل")
# Comment boxes: "add / leave ..." verbs and what they ask for.
COMMENT_VERBS: tuple[str, ...] = ("اضف", "اضيفي", "اضافه", "اترك", "اكتب", "ارسل", "شارك ب", "شارك")
COMMENT_WHAT: tuple[str, ...] = ("تعليق", "تعليقا", "تعليقك", "رايك")
COMMENT_LINE_STARTS: tuple[str, ...] = ("لا توجد تعليقات", "عدد التعليقات", "كن اول من يعلق")
# Links to the site's rules, found under comment boxes and in footers.
SITE_POLICY_PHRASES: tuple[str, ...] = ("ارشادات الاستخدام", "سياسه الخصوصيه", "شروط الاستخدام")
# Copyright lines, weather widgets and advertisement labels.
COPYRIGHT_PHRASES: tuple[str, ...] = ("جميع الحقوق محفوظه", "كل الحقوق محفوظه", "حقوق النشر", "حقوق الطبع")
WEATHER_WORDS: tuple[str, ...] = ("درجه الحراره", "غائم", "مشمس", "ممطر", "صحو", "الرطوبه", "رياح")
AD_LABELS: tuple[str, ...] = ("اعلان", "اعلانات", "محتوي مدفوع", "محتوي ممول", "برعايه", "advertisement", "sponsored")
# Previous / next links, and the words of a site menu.
PREVIOUS_NEXT: tuple[str, ...] = ("السابق", "التالي")
NAV_WORDS: frozenset[str] = frozenset({
    "السابق", "التالي", "المقال السابق", "المقال التالي", "الخبر السابق", "الخبر التالي",
    "الموضوع السابق", "الموضوع التالي", "المقاله السابقه", "المقاله التاليه", "previous", "next", "prev",
    "previous article", "next article", "previous post", "next post",
})
MENU_WORDS: frozenset[str] = frozenset({
    "الرئيسيه", "الصفحه الرئيسيه", "القائمه", "بحث", "ابحث", "home", "menu", "search", "عاجل", "مباشر", "فيديو",
    "صور", "المزيد", "تسجيل الدخول", "دخول", "اتصل بنا", "من نحن", "اعلن معنا", "login", "logo", "logo-icon",
})
# The heading of a tag list ("الكلمات المفتاحية:", "وسوم:").
TAG_HEADS: tuple[str, ...] = ("وسوم", "الوسوم", "علامات", "tags", "keywords")
TAG_HEAD_KEYWORDS: tuple[str, ...] = ("مفتاحيه", "داله")  # "كلمات (ال)<these>"
# What a counter counts ("1.2k مشاهدة").
COUNTER_WORDS: tuple[str, ...] = (
    "مشاهده", "مشاهدات", "قراءه", "قراءات", "تعليق", "تعليقات", "مشاركه", "مشاركات", "اعجاب",
)
# Single words that go with a date in a dateline or a publication stamp: a line of only these,
# numbers and calendar words is a date line.
DATE_LABELS: frozenset[str] = frozenset((
    "نشر|نشرت|نشره|النشر|تم|تاريخ|بتاريخ|اخر|تحديث|التحديث|محدث|في|الموافق|الساعه|"
    "صباحا|مساء|ص|م|هـ|ه|ق|ب|ظ|gmt|utc|بتوقيت|مكه|القاهره|بيروت|غرينتش|published|updated|on|at|am|pm|منذ|"
    "الاول|الثاني|الاخر|الاولي|الثانيه|الاخره|time|date|دقيقه|دقائق|ساعه|ساعات|يوم|ايام|قبل"
).split("|"))

# --- date labels (crawler.core.dates; normalised) ----------------------------------------------

# Words that label a date as a modification ("آخر تحديث", "محدثة") or a publication ("نشر في").
MODIFIED_LABELS: tuple[str, ...] = ("تحديث", "محدث", "محدثه", "تعديل", "عدل")
PUBLISHED_LABELS: tuple[str, ...] = ("نشر", "نشرت", "نشره", "منشور", "النشر", "تاريخ النشر", "اضيف")
# Stems of the relative-date words ("أمس", "منذ", "قبل يومين", ...): without a digit or one of
# these, a text holds no date.
RELATIVE_STEMS: tuple[str, ...] = (
    "البارح", "منذ", "قبل", "اليوم", "الماضي", "يومين", "ساع", "دقيق", "اسبوع", "أسبوع", "شهر",
)

# --- calendars (crawler.core.datetext; written as published, folded there) --------------------

# Gregorian month -> spellings: standard, Levantine/Iraqi, Maghrebi, English.
GREGORIAN_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("يناير", "ينايِر", "جانفي", "جانفيه", "january"),
    2: ("فبراير", "فبرايِر", "فبرير", "شباط", "فيفري", "february"),
    3: ("مارس", "آذار", "march"),
    4: ("أبريل", "إبريل", "ابريل", "أفريل", "افريل", "نيسان", "april"),
    5: ("مايو", "أيار", "ايار", "مايس", "ماي", "may"),
    6: ("يونيو", "يونيه", "حزيران", "جوان", "june", "jun"),
    7: ("يوليو", "يوليه", "تموز", "جويلية", "جويلة", "يوليوز", "july", "jul"),
    8: ("أغسطس", "اغسطس", "أغسطُس", "آب", "أوت", "اوت", "غشت", "august", "aug"),
    9: ("سبتمبر", "أيلول", "ايلول", "شتنبر", "september", "sept", "sep"),
    10: ("أكتوبر", "اكتوبر", "october", "oct"),
    11: ("نوفمبر", "نونبر", "november", "nov"),
    12: ("ديسمبر", "دجنبر", "december", "dec"),
}
ENGLISH_SHORT_MONTHS: dict[int, str] = {1: "jan", 2: "feb", 3: "mar", 4: "apr"}
# Levantine months named with an ordinal: (name, ordinal) -> month, and the ordinals' spellings.
LEVANT_ORDINAL_MONTHS: dict[tuple[str, int], int] = {("كانون", 2): 1, ("تشرين", 1): 10, ("تشرين", 2): 11, ("كانون", 1): 12}
ORDINAL_FIRST: tuple[str, ...] = ("الأول", "أول", "اول", "1")
ORDINAL_SECOND: tuple[str, ...] = ("الثاني", "ثاني", "الثانى", "2")
# The Levantine names of the months without an ordinal (the ones with one start with كانون/تشرين).
LEVANT_MONTHS: tuple[str, ...] = ("شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول")
# Month names that are ordinary words too (آب "father", ماي "my") or short English forms: they
# count only in a full day-month-year date.
WEAK_GREGORIAN: frozenset[str] = frozenset({
    "آب", "ماي", "مايس", "أوت", "اوت", "may", "mar", "jan", "feb", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# Hijri month -> spellings; the weak ones (صفر "zero", رمضان as a season ...) by number.
HIJRI_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("محرم", "المحرم"),
    2: ("صفر",),
    3: ("ربيع الأول", "ربيع أول", "ربيع الاول", "ربيع 1"),
    4: ("ربيع الآخر", "ربيع الثاني", "ربيع ثاني", "ربيع آخر", "ربيع الاخر", "ربيع 2"),
    5: ("جمادى الأولى", "جمادى الأول", "جمادى أولى", "جمادى الاولى", "جمادى 1"),
    6: ("جمادى الآخرة", "جمادى الثانية", "جمادى الآخر", "جمادى الثاني", "جمادى الاخرة", "جمادى 2"),
    7: ("رجب",),
    8: ("شعبان",),
    9: ("رمضان",),
    10: ("شوال",),
    11: ("ذو القعدة", "ذي القعدة", "ذوالقعدة", "ذو القعده"),
    12: ("ذو الحجة", "ذي الحجة", "ذوالحجة", "ذو الحجه"),
}
WEAK_HIJRI_MONTHS: frozenset[int] = frozenset({2, 7, 8, 9, 10, 1})
# Solar Hijri (Persian) month -> spellings (all weak: تیر, مهر, دی are ordinary words).
JALALI_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("فروردین",), 2: ("اردیبهشت", "اردی بهشت"), 3: ("خرداد",), 4: ("تیر",), 5: ("مرداد", "امرداد"),
    6: ("شهریور",), 7: ("مهر",), 8: ("آبان",), 9: ("آذر",), 10: ("دی",), 11: ("بهمن",), 12: ("اسفند",),
}
# Day names (Arabic, Persian, English) -> Python weekday (Monday 0).
WEEKDAYS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("الاثنين", "الإثنين", "اثنين", "الاثنبن", "دوشنبه"), 0),
    (("الثلاثاء", "ثلاثاء", "الثلاثا", "سه شنبه", "سه‌شنبه"), 1),
    (("الأربعاء", "الاربعاء", "أربعاء", "الأربعا", "چهارشنبه"), 2),
    (("الخميس", "خميس", "پنجشنبه", "پنج شنبه"), 3),
    (("الجمعة", "جمعة", "جمعه"), 4),
    (("السبت", "سبت", "شنبه"), 5),
    (("الأحد", "الاحد", "أحد", "یکشنبه", "یک شنبه"), 6),
    (("monday", "mon"), 0), (("tuesday", "tue"), 1), (("wednesday", "wed"), 2),
    (("thursday", "thu"), 3), (("friday", "fri"), 4), (("saturday", "sat"), 5), (("sunday", "sun"), 6),
)
# Number words of relative dates ("منذ ثلاث ساعات") -> value.
NUMBER_WORDS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("واحد", "واحدة"), 1), (("اثنين", "اثنتين", "اثنان"), 2), (("ثلاث", "ثلاثة"), 3),
    (("أربع", "أربعة"), 4), (("خمس", "خمسة"), 5), (("ست", "ستة"), 6), (("سبع", "سبعة"), 7),
    (("ثماني", "ثمانية", "ثمان"), 8), (("تسع", "تسعة"), 9), (("عشر", "عشرة"), 10),
)
# Units of relative dates: (timedelta unit, singular, plural, dual spellings).
TIME_UNITS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("seconds", ("ثانية",), ("ثوان", "ثواني", "ثوانٍ"), ("ثانيتين", "ثانيتان")),
    ("minutes", ("دقيقة", "د"), ("دقائق", "دقايق"), ("دقيقتين", "دقيقتان")),
    ("hours", ("ساعة", "س"), ("ساعات",), ("ساعتين", "ساعتان")),
    ("days", ("يوم", "يوما", "يومًا"), ("أيام", "ايام"), ("يومين", "يومان")),
    ("weeks", ("أسبوع", "اسبوع", "أسبوعا"), ("أسابيع", "اسابيع"), ("أسبوعين", "أسبوعان")),
    ("months", ("شهر", "شهرا"), ("أشهر", "شهور"), ("شهرين", "شهران")),
    ("years", ("سنة", "عام", "عاما"), ("سنوات", "سنين", "أعوام", "اعوام"), ("سنتين", "سنتان", "عامين", "عامان")),
)
# Places named in "بتوقيت <place>" -> IANA time zone.
CITY_ZONES: dict[str, str] = {
    "مكة": "Asia/Riyadh", "مكه": "Asia/Riyadh", "الرياض": "Asia/Riyadh", "السعودية": "Asia/Riyadh",
    "القاهرة": "Africa/Cairo", "مصر": "Africa/Cairo", "بيروت": "Asia/Beirut", "لبنان": "Asia/Beirut",
    "دمشق": "Asia/Damascus", "سوريا": "Asia/Damascus", "بغداد": "Asia/Baghdad", "العراق": "Asia/Baghdad",
    "عمان": "Asia/Amman", "الأردن": "Asia/Amman", "الدوحة": "Asia/Qatar", "قطر": "Asia/Qatar",
    "أبوظبي": "Asia/Dubai", "أبو ظبي": "Asia/Dubai", "دبي": "Asia/Dubai", "الإمارات": "Asia/Dubai",
    "الكويت": "Asia/Kuwait", "المنامة": "Asia/Bahrain", "البحرين": "Asia/Bahrain", "مسقط": "Asia/Muscat",
    "القدس": "Asia/Jerusalem", "فلسطين": "Asia/Gaza", "غزة": "Asia/Gaza", "الخرطوم": "Africa/Khartoum",
    "تونس": "Africa/Tunis", "الجزائر": "Africa/Algiers", "الرباط": "Africa/Casablanca",
    "المغرب": "Africa/Casablanca", "طرابلس": "Africa/Tripoli", "ليبيا": "Africa/Tripoli",
    "صنعاء": "Asia/Aden", "اليمن": "Asia/Aden", "موسكو": "Europe/Moscow", "غرينتش": "UTC",
    "جرينتش": "UTC", "غرينيتش": "UTC",
}

# --- page metadata (crawler.core.metadata and its parts; written as published) ----------------

# Breadcrumb links to the front page, and section names that name no section.
HOME_WORDS: tuple[str, ...] = ("الرئيسية", "الصفحة الرئيسية", "رئيسية", "home", "homepage", "home page", "accueil")
GENERIC_SECTIONS: tuple[str, ...] = (
    "featured", "uncategorized", "uncategorised", "غير مصنف", "غير مصنفة", "slider", "main", "post",
)
# Bylines that name nobody: agencies in general, the desk, the site, placeholders.
GENERIC_AUTHORS: tuple[str, ...] = (
    "وكالات", "وكالة", "الوكالات", "وكالات الأنباء", "المحرر", "محرر", "محرر الموقع", "التحرير", "فريق التحرير",
    "هيئة التحرير", "أسرة التحرير", "قسم التحرير", "غرفة الأخبار", "مراسلنا", "مراسلون", "متابعات", "خاص",
    "فريق العمل", "الموقع", "المصدر", "مصادر", "admin", "administrator", "editor", "editors", "staff",
    "newsroom", "web desk", "desk", "unknown", "anonymous",
)
# Byline verbs: "كتب فلان", "بقلم: فلان" (a colon optional), and labels that need one ("حوار: فلان").
BYLINE_VERBS: tuple[str, ...] = ("كتبت", "كتبه", "كتب", "بقلم")
BYLINE_OPENING_VERBS: tuple[str, ...] = ("كتبت", "كتب", "بقلم")  # opening a paragraph: "كتب فلان: ..."
BYLINE_LABELS: tuple[str, ...] = ("حوار", "تقرير", "إعداد", "اعداد", "تحرير", "متابعة", "ترجمة")
# Credits of who built the web site, not who wrote the story ("تصميم", "برمجة" ...).
SITE_CREDIT_WORDS: tuple[str, ...] = ("تصميم", "برمجة", "تطوير", "استضافة")
# Tags that say nothing of the story.
GENERIC_TAGS: tuple[str, ...] = ("news", "أخبار", "الأخبار", "خبر", "home", "الرئيسية", "عاجل")

# --- article anatomy (crawler.core.anatomy, crawler.core.title) ---------------------------------

# Nouns that name a publication: a short title segment or body prefix opening with one of them is
# the outlet's name («جريدة ...», «صحيفة ...»), not part of the story.
PUBLICATION_WORDS: tuple[str, ...] = ("جريدة", "صحيفة", "مجلة", "موقع", "بوابة", "إذاعة", "newspaper", "magazine")
# ... and the loanword that closes an outlet's name («... نيوز», "... News").
PUBLICATION_SUFFIXES: tuple[str, ...] = ("نيوز", "news")
# Labels of a byline block that lists its fields one per line: "Author, <name>", "Role, <title>".
BYLINE_FIELDS: tuple[str, ...] = (
    "author", "role", "reporting from", "reporter", "الكاتب", "الكاتبة", "المؤلف", "المنصب", "الصفة",
    "المراسل", "المراسلة",
)
# The fields of such a block that hold the person's name.
BYLINE_NAME_FIELDS: tuple[str, ...] = ("author", "reporter", "الكاتب", "الكاتبة", "المؤلف", "المراسل", "المراسلة")
# Class-name words of the parts around a headline and a body (matched inside class/id values).
LEAD_MARKS: tuple[str, ...] = (
    "lead", "standfirst", "stand-first", "summary", "excerpt", "intro", "sapo", "teaser", "dek", "chapeau",
    "abstract", "subhead", "sub-title", "subtitle",
)
KICKER_MARKS: tuple[str, ...] = ("kicker", "overline", "supertitle", "surtitle", "eyebrow", "pretitle", "pre-title")
CAPTION_MARKS: tuple[str, ...] = ("caption", "credit", "photo-source", "image-source", "img-source")
