"""Extraction rules as data, in one place (trafilatura's habit): the words, patterns and
thresholds every extractor module reads. Logic lives in the modules; what it matches lives here.

Word lists are matched after ``casefold()`` and white-space collapsing: keys are written that
way (tests/test_rules.py checks it). Extend a list for a new language here, with a fixture case.
"""

from __future__ import annotations

import datetime as dt
import re

from pipeline import textnorm


def words(text: str) -> frozenset[str]:
    """A word list written as white-space separated words."""
    return frozenset(text.split())


def phrases(text: str) -> frozenset[str]:
    """A list of words and phrases separated by ``|``."""
    return frozenset(" ".join(p.split()) for p in text.split("|") if p.strip())


# The Arabic script block, defined once in pipeline.textnorm.
ARABIC_RE = textnorm.ARABIC_RE


# --- Authors: bylines, names that are not people, agencies, name shapes --------------------------

# "Author", "reporter", "written by" in Chinese and Japanese bylines ("作者︱…", "記者 …").
CJK_BYLINE_LABELS = "作者|记者|記者|撰文"
BYLINE_PREFIX_RE = re.compile(
    r"^\s*(?:(?:written|reported|posted|published|compiled|edited|text|story|words|opinion|analysis|commentary)\s+)?"
    r"(?:by|from|par|von|por|di)\s*[:\-–—]?\s+"
    r"|^\s*(?:authors|author|writer|columnist|texte|texto|text|words|авторы|автор|текст|بقلم|كتبت|كتب|الكاتبة|الكاتب|إعداد)\s*[:\-–—]?\s*"
    rf"|^\s*(?:{CJK_BYLINE_LABELS}|文)\s*[:：︱丨|/]?\s*",
    re.IGNORECASE,
)
# Co-authors a byline gives in parentheses: "Par A (avec B et C)", "By A (with B)".
WITH_COAUTHORS_RE = re.compile(
    r"\(\s*(?:with|avec|con|mit|com|met|с|со|مع)\s+([^)]+)\)", re.IGNORECASE
)
# A photo or image credit glued to a byline ("… Photograph: John Doe for the Guardian"): never
# an author, cut from the label to the end.
PHOTO_CREDIT_RE = re.compile(
    r"\s*\b(?:main image|photograph|photo|picture|image|illustration|foto|фото|صورة)s?\s*:.*$",
    re.IGNORECASE,
)
# A credit for the pictures in a byline ("A (reporting) and B (photography)"): B is no author.
VISUAL_CREDIT_RE = re.compile(
    r"\(\s*(?:photograph\w*|photos?|pictures|images?|video\w*|illustrations?|graphics|"
    r"фото\w*|видео)\s*\)",
    re.IGNORECASE,
)
# The page's credit of an editor, not an author ("责任编辑：…"): that name is no author.
EDITOR_CREDIT_RE = re.compile(r"(?:责任编辑|責任編輯|编辑|編輯)\s*[:：︱丨|]\s*([^\s<>：:|]{2,12})")
# A Korean byline's "… 기자" (reporter) after the name.
KO_REPORTER_RE = re.compile(r"\s*기자\b.*$")

SPLIT_RE = re.compile(
    r"\s*(?:,|;|/|\||&|\band\b|\bund\b|\bet\b|\by\b|\bи\b|\s+و(?=\S)|\s+و\s+|\s·\s|\s+\+\s+)\s*",
    re.IGNORECASE,
)

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

HANDLE_RE = re.compile(r"(?:^|\s)@\w+")

DATE_RE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:\s+\d{4})?)\b.*$",
    re.IGNORECASE,
)

# Weekday names glued to a byline by a date that followed it ("Joe Wee Monday, 3 March").
WEEKDAYS = words(
    """
    monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun
    lundi mardi mercredi jeudi vendredi samedi dimanche montag dienstag mittwoch donnerstag
    freitag samstag sonntag lunes martes miércoles jueves viernes sábado domingo
    понедельник вторник среда четверг пятница суббота воскресенье
    """
)

ROLE_WORDS = words(
    """
    correspondent reporter editor columnist contributor writer analyst senior chief staff
    special foreign political diplomatic bureau fellow professor director president ceo
    researcher journalist corrispondente корреспондент обозреватель редактор колумнист مراسل
    محرر كاتب محلل updated published posted photo photos video illustration
    """
)

# Bylines that are not people; they are dropped. (Navigation words are in NAV_WORDS: a
# candidate containing one is never a person.)
NON_PERSONS = phrases(
    """
    admin | administrator | staff | staff writer | staff reporter | editor | editors |
    the editors | editorial | editorial board | editorial team | editorial staff | newsroom |
    news desk | web desk | online desk | desk | team | guest | guest author | anonymous |
    unknown | contributor | contributors | wordpress | webmaster | root | user | redaktion |
    редакция | редакция сайта | التحرير | فريق التحرير | المحرر | هيئة التحرير |
    our correspondent | special correspondent | correspondent | agencies | news agencies |
    wire | wires | press release | comment | read more
    """
)

# Wire services: kept, as organisation authors.
AGENCIES = {
    "reuters": "Reuters",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "dpa": "dpa",
    "xinhua": "Xinhua",
    "efe": "EFE",
    "ansa": "ANSA",
    "tass": "TASS",
    "ria novosti": "RIA Novosti",
    "interfax": "Interfax",
    "anadolu": "Anadolu",
    "anadolu agency": "Anadolu",
    "sana": "SANA",
    "irna": "IRNA",
    "bloomberg": "Bloomberg",
    "upi": "UPI",
    "kuna": "KUNA",
    "wam": "WAM",
    "spa": "SPA",
    "qna": "QNA",
    "mena": "MENA",
    "isna": "ISNA",
    "fars": "Fars",
    "тасс": "ТАСС",
    "риа новости": "РИА Новости",
    "интерфакс": "Интерфакс",
    "رويترز": "رويترز",
    "أ ف ب": "أ ف ب",
    "ا ف ب": "أ ف ب",
    "فرانس برس": "فرانس برس",
    "سانا": "سانا",
    "الأناضول": "الأناضول",
    "وكالات": "",
}

NAME_PARTICLES = words(
    """
    de da di del della van von der den la le al el bin ibn abu ben du dos das y e st st.
    """
)

PARTICLE_PREFIX_RE = re.compile(
    r"^(?:al|el|ad|as|ash|at|an|ar|az|ibn|bin|abu|d|l|o)[-'’]", re.IGNORECASE
)

NAV_WORDS = words(
    """
    home menu search login log subscribe share tweet follow news opinion comments more latest
    about contact privacy sections world politics sport sports business read next previous
    print email facebook twitter whatsapp telegram newsletter podcast video videos главная
    новости поиск меню الرئيسية أخبار بحث اتصل
    """
)

NAME_WORD_RE = re.compile(r"^[^\W\d_][\w'’.\-]*$")

FUNCTION_WORDS = words(
    """
    the of to in for on with at is are was were a an our your this that new how why what as
    after over says в на о об с со по к из для не как في من على إلى عن مع هذا هذه
    """
)


# --- Bylines in the page: elements, lines, closing bios, disclaimers -----------------------------

# Byline-like elements (pipeline.bylines.byline_elements): rel="author" or itemprop="author"; a
# class with the word "author" or one of these compounds of it; a class or an id with one of these
# parts in it.
BYLINE_AUTHOR_CLASSES = (
    "author-name",
    "entry-author",
    "article-author",
    "post-author",
    "author-link",
    "meta-author",
)
BYLINE_CLASS_PARTS = ("byline", "by-line", "writer", "contributor", "posted-by")
BYLINE_ID_PARTS = ("byline",)

# Places where author-looking markup is somebody else's (teasers, comments, widgets).
FOREIGN_ANCESTORS = re.compile(
    r"related|comment|sidebar|widget|recommend|more-stories|teaser|footer|nav|menu|popular", re.I
)

BYLINE_LINE_RE = re.compile(
    r"^\s*(?:by|written by|posted by|published by|words by|text|von|par|por|di|da|door|"
    r"автор|текст|بقلم|كتب|كتبت)\s*[:\-–—]?\s+\S"
    rf"|^\s*(?:{CJK_BYLINE_LABELS})\s*[:：︱丨|]\s*\S",
    re.IGNORECASE,
)
# "On 6/13/2018 by Jane Roe", "Posted on March 3, 2024 by jroe": a date, then the byline.
DATED_BYLINE_RE = re.compile(
    r"^\s*(?:(?:posted|published|written|updated)\s+)?on\s+.{4,40}?\s+(?P<byline>by\s+\S.*)$",
    re.IGNORECASE,
)
# The words that either of those can start with, matched on the text without its leading white
# space (pipeline.bylines.opens_like_byline: a cheap test that most elements of a page fail).
BYLINE_START_RE = re.compile(
    r"(?:by|written|posted|published|updated|words|text|von|par|por|di|da|door|on|"
    rf"автор|текст|بقلم|كتب|{CJK_BYLINE_LABELS})",
    re.IGNORECASE,
)
# A single-word credit ("Posted by kovarex, TOGos") is taken only from an explicit byline line
# and only in this shape (a handle or a pen name, not a phrase).
HANDLE_NAME_RE = re.compile(r"^[^\W\d_][\w.\-]{2,29}$")
# A short element whose whole text is a byline ("Posted by Alon Zakai.", "Von Ben Schwan",
# "Par Martin Untersinger, Damien Leloup et Morgane Tual"): at most this many characters.
SHORT_BYLINE_CHARS = 140
# Attributes some sites put the author in (analytics data layers, web components).
AUTHOR_ATTRIBUTES = ("data-author", "data-author-name", "data-ga4-author", "data-article-author")

BIO_RE = re.compile(
    r"^(?P<name>[^\W\d_][\w'’.\-]*(?:\s+[\w'’.\-]+){1,4}?)\s+"
    r"(?:is|was|has been|serves as|teaches|writes|is currently)\s+(?:a|an|the|currently|senior|president|director|"
    r"professor|editor|founder|chief|head|executive|co-founder|former|lecturer|visiting|research|associate)\b",
)

# "Andrés Malamud es politólogo…", "X é jornalista…", "X est journaliste…", "X ist Journalist…"
BIO_RE_ROMANCE = re.compile(
    r"^(?P<name>[^\W\d_][\w'’.\-]*(?:\s+[\w'’.\-]+){1,4}?)\s+(?:es|é|est|ist|è|era|fue|foi)\s+"
    r"(?:un[ae]?\s+|uma?\s+|ein[e]?\s+|le\s+|la\s+|el\s+|o\s+|a\s+)?"
    r"(?:polit[óo]log[oa]|periodista|jornalista|journaliste|Journalist(?:in)?|giornalista|"
    r"escritor[a]?|écrivain|Autor(?:in)?|auteur|autor[a]?|profes+or[a]?|professeur|"
    r"investigador[a]?|pesquisador[a]?|chercheu(?:r|se)|analista|analyste|economista|économiste|"
    r"historiador[a]?|historien(?:ne)?|soci[óo]log[oa]|sociologue|diplomat|abogad[oa]|advogad[oa]|"
    r"avocat|columnista|colunista|chroniqueu(?:r|se)|redactor[a]?|rédact(?:eur|rice)|Redakteur(?:in)?|"
    r"corresponsal|correspondente|correspondant[e]?|Korrespondent(?:in)?|director[a]?|directeur|"
    r"diretor[a]?|fundador[a]?|fondat(?:eur|rice)|senior|ex|"
    r"ingenier[oa]|ingénieure?|Ingenieur(?:in)?|engenheir[oa]|ingegnere|m[ée]dic[oa]|médecin|"
    r"Arzt|Ärztin|catedr[áa]tic[oa]|consultor[a]?|consultante?|presidente|présidente?|"
    r"miembro|membre|Mitglied|embajador[a]?|ambassad(?:eur|rice)|Botschafter(?:in)?|"
    r"exministr[oa]|ex-ministre|investigador[a]?|docente|enseignante?|Dozent(?:in)?)\b",
    re.IGNORECASE,
)

BIO_RE_RU = re.compile(r"^(?P<name>[А-ЯЁ][а-яё\-]+(?:\s+[А-ЯЁ][а-яё\-]+){1,2})\s+[—–-]\s+[а-яё]")

BIO_RE_AR = re.compile(
    r"^(?P<name>(?:[\u0621-\u064a]+\s+){1,3}[\u0621-\u064a]+)\s*[،,:\-–—]?\s+(?:كاتب|كاتبة|باحث|باحثة|صحفي|صحفية|محلل|محللة|أستاذ|أستاذة)\b"
)

DISCLAIMER_RE = re.compile(
    r"views? expressed .{0,80}(?:are|is) (?:solely |entirely )?(?:those of the|the author|his own|her own|their own|the writer)"
    r"|opinions? expressed .{0,60}(?:author|writer)|does not necessarily reflect|do not necessarily (?:reflect|represent)"
    r"|мнение автора может не совпадать|точка зрения автора|لا تعبر بالضرورة عن|تعبر عن رأي (?:الكاتب|كاتبها)",
    re.IGNORECASE,
)


# --- Op-eds --------------------------------------------------------------------------------------

OPINION_TYPES = {"OpinionNewsArticle"}

# Section / category names that mean opinion, in the languages we watch.
OPINION_SECTION_RE = re.compile(
    r"^(?:opinions?|op-?eds?|op\.ed|comment(?:ary|aries)?|views?|viewpoints?|columns?|columnists?|"
    r"analysis|editorials?|perspectives?|ideas|blogs?|guest (?:column|post)s?|commentaires?|tribune|"
    r"мнени[ея]|колонк[аи]|колумнисты|комментари[йи]|аналитика|точка зрения|авторская колонка|блоги?|"
    r"رأي|آراء|الرأي|مقالات|مقال|أعمدة|كتاب|كتّاب|تحليل|تحليلات|وجهة نظر|قضايا وآراء)$",
    re.IGNORECASE,
)

DEFAULT_URL_PATTERNS = (
    r"/opinions?/",
    r"/op-?eds?/",
    r"/comment(?:ary)?/",
    r"/columns?/",
    r"/columnists?/",
    r"/views?/",
    r"/analysis/",
    r"/editorials?/",
    r"/blogs?/",
    r"/ideas/",
    r"/perspectives?/",
    r"/mneniya?/",
    r"/opinion-",
    r"/kolonki?/",
    r"/articles-opinion",
    r"/araa/",
    r"/ara[a2]/",
)


# --- Titles, page types and the cascade's sources ------------------------------------------------

# Chinese, Japanese (kana and kanji) and Korean (hangul) characters.
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|«|»|·|•|/)\s+")

# An error page says so in words; a bare number ("500 killed as floods hit the delta") or the word
# "error" in a headline is not enough.
ERROR_TITLE_RE = re.compile(
    r"\b(?:error|erreur|fehler|ошибка)\s*(?:404|410|500|503)\b"
    r"|\b(?:404|410|500|503)\b\s*[-–:|]?\s*(?:error|not found|page not found|gone|internal server error|service unavailable)\b"
    r"|\bpage not found\b|^\s*not found\b|\bpage (?:can['’]?t|cannot|could not) be found\b"
    r"|страница не найдена|الصفحة غير موجودة|^\s*خطأ",
    re.IGNORECASE,
)

NON_ARTICLE_PATH_RE = re.compile(
    r"/(?:tag|tags|category|categories|author|authors|topics?|search|page/\d+|about(?:-us)?|contact(?:-us)?|"
    r"privacy(?:-policy)?|terms|subscribe|login|archive|feed|newsletters?)(?:/|$)",
    re.IGNORECASE,
)

MIN_ARTICLE_CHARS = 300

# Page-type signals (PageShape): thresholds in one place.
PROSE_PARAGRAPH_CHARS = 150

LISTING_MIN_TEASERS = 4

LISTING_LINK_DENSITY = 0.5

MIN_PROSE_WITHOUT_SIGNALS = 5

ORGANIZATION_TYPES = frozenset(
    {"Organization", "NewsMediaOrganization", "Corporation", "GovernmentOrganization", "NGO"}
)

STRUCTURED_DATE_SOURCES = frozenset({"json-ld", "json-ld:webpage", "meta", "microdata", "url"})
# The page's own published-date fields. When they disagree by less than this, one of them
# carries a later revision: the first publication is the earliest of them.
PUBLISHED_FIELDS = frozenset({"json-ld", "json-ld:webpage", "meta", "microdata"})
REVISION_WINDOW = dt.timedelta(days=7)
# A wire-style dateline opening the text: "Feb. 23, 2015 -- …", "MOSCOW, 3 March 2021 — …".
TEXT_DATELINE_RE = re.compile(
    r"^\s*(?:[^\W\d_][^\W\d]{1,25}(?:\s[^\W\d]{1,25})?,\s*)?(?P<date>[^–—]{6,40}?)\s*(?:--|—|–)\s*\S"
)

STRUCTURED_AUTHOR_SOURCES = frozenset({"json-ld", "meta"})

VISIBLE_DATE_SOURCES = frozenset({"time", "dateline", "selector"})


# --- Dates ---------------------------------------------------------------------------------------

EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)

FUTURE_SLACK = dt.timedelta(days=1)

URL_DATE_RES = (
    re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$|[-_])"),
    re.compile(r"[/_-]((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)"),
    re.compile(r"/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:/|$|[-_])"),
)

_H = 3600

# Abbreviations seen in datelines; dateutil knows none of them by itself.
TZINFOS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "BST": _H,
    "CET": _H,
    "CEST": 2 * _H,
    "EET": 2 * _H,
    "EEST": 3 * _H,
    "MSK": 3 * _H,
    "AST": 3 * _H,
    "IRST": int(3.5 * _H),
    "EST": -5 * _H,
    "EDT": -4 * _H,
    "CST": -6 * _H,
    "CDT": -5 * _H,
    "MST": -7 * _H,
    "MDT": -6 * _H,
    "PST": -8 * _H,
    "PDT": -7 * _H,
    # Short US forms in datelines ("10:30 a.m. ET"): standard time; a summer dateline is an
    # hour off, which is better than dropping the zone.
    "ET": -5 * _H,
    "CT": -6 * _H,
    "MT": -7 * _H,
    "PT": -8 * _H,
    "AKST": -9 * _H,
    "HST": -10 * _H,
    "WET": 0,
    "WEST": _H,
    "IST": int(5.5 * _H),  # India (the Irish and Israeli IST are rarer in datelines)
    "PKT": 5 * _H,
    "GST": 4 * _H,  # Gulf
    "TRT": 3 * _H,
    "EAT": 3 * _H,
    "SAST": 2 * _H,
    "WAT": _H,
    "MSD": 4 * _H,
    "WIB": 7 * _H,
    "ICT": 7 * _H,
    "HKT": 8 * _H,
    "SGT": 8 * _H,
    "JST": 9 * _H,
    "KST": 9 * _H,
    "AEST": 10 * _H,
    "AEDT": 11 * _H,
    "NZST": 12 * _H,
}
# Languages whose numeric dates put the month first (03/04/2021 = 4 March). Every other page
# language reads the day first.
# Languages dateparser tries when a page does not say its own: the ones monitored most. Trying
# every locale it knows (~200) costs up to half a second per unparseable string.
DEFAULT_DATE_LANGUAGES = ("en", "ar", "ru", "fr", "de", "es", "pt", "tr", "it", "uk", "fa")

MONTH_FIRST_LANGUAGES = frozenset({"en-us", "en"})
# Levantine (Syriac-derived) month names, as the Gregorian Arabic names dateparser knows.
LEVANTINE_MONTHS = {
    "كانون الثاني": "يناير",
    "شباط": "فبراير",
    "آذار": "مارس",
    "نيسان": "أبريل",
    "أيار": "مايو",
    "حزيران": "يونيو",
    "تموز": "يوليو",
    "آب": "أغسطس",
    "أيلول": "سبتمبر",
    "تشرين الأول": "أكتوبر",
    "تشرين الثاني": "نوفمبر",
    "كانون الأول": "ديسمبر",
}
# Arabic-Indic and Persian digits, read as ASCII digits.
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


# --- Structured data -----------------------------------------------------------------------------

ARTICLE_TYPES = (
    "OpinionNewsArticle",
    "AnalysisNewsArticle",
    "ReportageNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "NewsArticle",
    "Article",
    "BlogPosting",
    "SocialMediaPosting",
    "ScholarlyArticle",
    "Report",
    "TechArticle",
    "LiveBlogPosting",
    "Blog",
)


# --- Language detection --------------------------------------------------------------------------

MIN_TEXT_FOR_DETECTION = 200
# The detector reads the text's first characters only: its cost grows with the length (a Python
# loop over the bytes), and 2,000 characters decide as 5,000 did on every page of both sets.
DETECTION_SAMPLE = 2000

CONFIDENT = 0.9
