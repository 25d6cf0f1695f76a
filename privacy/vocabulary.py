"""Word lists the redactor reads: street words, postcode areas, states, non-names.

Kept apart from the patterns so a reviewer can extend a list without touching a regex.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` (lists read better as one string)."""
    return frozenset(text.split())


# Street types that name a street on their own ("12 Oak Street").
STRONG_STREET_TYPES = (
    "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "lane", "ln",
    "highway", "hwy", "parkway", "pkwy", "crescent", "cres", "terrace", "terr", "mews",
    "gardens", "gdns", "grove", "expressway", "expy", "freeway", "fwy", "turnpike", "tpke",
)  # fmt: skip
# Street types that are also everyday words ("hard drive", "2 way", "park"): they count
# only in Title Case or after an address cue ("ship it to 4 maple drive").
WEAK_STREET_TYPES = (
    "drive", "dr", "way", "place", "pl", "court", "ct", "close", "square", "sq", "circle",
    "cir", "row", "walk", "hill", "park", "trail", "trl", "plaza", "loop", "alley", "path",
    "pike", "point", "view", "green", "rise", "wharf", "quay", "heights", "hts",
)  # fmt: skip
# Words that may follow a street without a cue ("12 Oak Street please"); any other
# lower-case word ("2 mountain road bikes") means it was not an address.
STREET_FOLLOWERS = _words(
    "and or in on at near by for from please pls thanks thank thx instead now then not is "
    "was will would should to the my our with asap today tomorrow ok okay"
)
UNIT_WORDS = ("apartment", "apt", "unit", "suite", "ste", "flat", "floor", "fl", "room", "rm", "bldg", "building")  # fmt: skip

US_STATE_CODES = _words(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"
)
US_STATE_NAMES = (
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut",
    "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa",
    "kansas", "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan",
    "minnesota", "mississippi", "missouri", "montana", "nebraska", "nevada", "new hampshire",
    "new jersey", "new mexico", "new york", "north carolina", "north dakota", "ohio",
    "oklahoma", "oregon", "pennsylvania", "rhode island", "south carolina", "south dakota",
    "tennessee", "texas", "utah", "vermont", "virginia", "washington", "west virginia",
    "wisconsin", "wyoming",
)  # fmt: skip
# The UK's postcode areas (the letters before the first digit).
UK_POSTCODE_AREAS = _words(
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT "
    "DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA "
    "LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE "
    "SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV "
    "YO ZE"
)
# Top-level domains accepted in spelled-out e-mails ("ann at example dot com").
SPELLED_EMAIL_TLDS = _words(
    "com net org edu gov mil int io co uk us ca au nz ie de fr es it nl be ch at se no dk fi "
    "pl pt cz gr hu ro ru jp cn in br mx ar za info biz me tv app dev shop store online xyz "
    "email mail eu asia"
)
# Words that are never the mailbox or domain of a spelled-out e-mail ("looking at the dot com").
NOT_EMAIL_WORDS = _words(
    "a an the my your our their his her its this that it me you we us them home work night "
    "least all once first last best most look looking see seen check checked shop store site "
    "website page web online cheaper cheap cheapest sold sale sales available listed buy "
    "bought found seen price prices priced order ordered shopping deal deals offer there here "
    "also even only now stock in out one ones thing things same less more"
)
# Shops and sites a shopper names with "at" ("cheaper at amazon.com"): never a mailbox.
SHOP_DOMAINS = _words(
    "amazon ebay walmart target etsy bestbuy argos currys johnlewis zalando asos aliexpress "
    "apple google ikea costco tesco boots next temu shein wayfair homedepot lowes"
)

# Words that follow "password is" but are not a password ("my password is not working").
NOT_SECRETS = _words(
    "not wrong incorrect invalid correct right working expired reset forgotten forgot changed "
    "change the a an my your for to and or is was it this that please help link email mail "
    "doesnt does isnt wont didnt cant cannot too so very still ok okay fine weak strong required "
    "needed missing empty blank same different new old long short case field box rules policy "
    "requirements manager update again now here there because but if when with without on in "
    "at of from by protected encrypted saved stored recovery hint reminder locked blocked "
    "rejected accepted sent lost stolen compromised hacked no none yes set showing shown "
    "being getting"
)

# Capitalised words after "I'm" / "this is" / "name is" that are not a name.
NOT_NAMES = _words(
    """
    a an the i im i'm me my mine your yours our their his her its it this that these those
    not no yes very so too just only also still here there back now today tomorrow yesterday
    looking interested trying waiting going coming getting having hoping thinking wondering
    asking calling writing buying ordering returning moving planning shopping searching
    checking sending contacting reaching emailing messaging using paying living staying
    sure happy unhappy glad sorry fine good great ok okay well ready done new old
    disappointed confused frustrated angry upset annoyed tired afraid worried concerned
    unable able trouble missing lost stuck late early busy available
    broken damaged wrong faulty defective amazing awesome terrible horrible ridiculous
    unacceptable urgent important perfect lovely nice bad poor useless weird strange
    regarding about from with in on at for to of by and or but as if because
    what why how when where who which whose really quite pretty extremely totally
    completely absolutely never always please thanks thank thankyou hello hi hey dear
    customer member shopper guest user buyer client seller vendor
    order item product package parcel delivery refund return account payment invoice
    question complaint problem issue request mistake error
    american british english german french canadian australian irish scottish welsh
    spanish italian dutch indian chinese japanese mexican polish swedish
    vegan vegetarian allergic pregnant
    mr mrs ms miss dr sir madam
    shown showing listed printed spelled misspelled spelt misspelt displayed displaying
    incorrect correct right different same changed missing empty blank wrongly
    """
)
# Lower-case particles inside a name ("Ana de la Cruz", "Ludwig van Beethoven").
NAME_PARTICLES = _words("de da del della di du la le van von der den bin al el dos das st")
# Words before "name:" that make it something else's name ("product name: Galaxy S8").
NOT_PERSON_NAME_OWNERS = _words(
    "product item brand file model store shop company business domain user display screen "
    "code colour color size street city town band song book game app device network wifi "
    "pet dog cat"
)
# IBAN length per country (ISO 13616 registry); other country codes are not IBANs.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip
# Mail providers: "ann at gmail dot com" is an e-mail even without the word "e-mail".
MAIL_PROVIDERS = _words(
    "gmail googlemail yahoo ymail hotmail outlook live msn icloud me mac aol proton protonmail "
    "pm gmx web mail zoho yandex fastmail hey tutanota btinternet sky virginmedia comcast "
    "verizon att orange free laposte wanadoo t-online freenet libero"
)
