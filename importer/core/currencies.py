"""ISO 4217 currency codes, so a typo such as "EURO" or "usd " is caught where data enters.

The list is the active alphabetic codes (including funds and precious-metal codes that banks
do print, such as XAU).  Minor units matter for uploaders that validate decimals.
"""

from __future__ import annotations

_ACTIVE = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD
XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
"""

# Codes withdrawn from ISO 4217 that still appear in old statements in the corpus.
_HISTORIC = "DEM FRF NLG ITL ESP BEF ATS FIM IEP PTE GRD LTL LVL EEK SKK SIT CYP MTL RUR"

CODES: frozenset[str] = frozenset(_ACTIVE.split()) | frozenset(_HISTORIC.split())

_ZERO_DECIMALS = frozenset("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split())
_THREE_DECIMALS = frozenset("BHD IQD JOD KWD LYD OMR TND".split())


def is_currency(code: str) -> bool:
    """True when `code` is an ISO 4217 alphabetic code (upper case, exact)."""
    return code in CODES


def minor_units(code: str) -> int:
    """Decimal places a service expects for `code` (2 for most currencies)."""
    if code in _ZERO_DECIMALS:
        return 0
    if code in _THREE_DECIMALS:
        return 3
    return 2
