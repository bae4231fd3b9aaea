"""Which column is which: from header names in nine languages, else from the cells themselves.

Header names are compared after folding case, accents, punctuation and a trailing currency
tag, so "Betrag (EUR)", "Montant de l'opération" and "Сумма" all land on a known word.
"""

from __future__ import annotations

import re
import unicodedata

# Roles a column can play; "ignore" marks columns that look like a role but must not feed it
# (an original foreign-currency amount is not the booked amount).
ROLES = (
    "date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "indicator",
    "balance",
    "currency",
    "payee",
    "description",
    "memo",
    "bank_id",
    "account",
    "ignore",
)

_NAMES: dict[str, str] = {
    "date": """date|posting date|post date|posted date|transaction date|trans date|booking date|date posted
        |date processed|completed date|created|timestamp|datetime|order date|journaldate|fecha|fecha operacion
        |fecha contable|data|data operazione|data contabile|data registrazione|data lancamento|data movimento
        |data operacji|data ksiegowania|datum|buchungstag|buchungsdatum|belegdatum|transactiedatum|boekdatum
        |date operation|date de l operation|date comptable|date de comptabilisation|дата|дата операции
        |дата проводки|дата совершения операции|data transakcji|tranzakcio datuma|datum provedeni|started date
        |transaction date time|date time""",
    "value_date": """value date|valuedate|valutadatum|wertstellung|valuta|rentedatum|date de valeur|fecha valor
        |data valuta|data valor|data waluty|дата валютирования|дата обработки операции|ertéknap|erteknap""",
    "amount": """amount|amt|transaction amount|net amount|netamount|amount total|net|betrag|buchungsbetrag|umsatz
        |bedrag|montant|montant de l operation|importe|importo|valor|valore|kwota|kwota operacji|сумма
        |сумма операции|сумма в валюте счета|summa|suma|castka|zauctovana castka|tranzakcio osszege|mutatie
        |amount in account currency|paid amount|total|gross|value""",
    "debit": """debit|debits|debit amount|withdrawal|withdrawals|withdrawal amount|paid out|money out|outflow
        |out|soll|ausgang|lastschrift betrag|af|debet|debit eur|retrait|debito|débito|cargo|cargos|addebiti
        |addebito|uscite|wyplaty|obciazenia|расход|списание|дебет|spent|charge|charges""",
    "credit": """credit|credits|credit amount|deposit|deposits|deposit amount|paid in|money in|inflow|in|haben
        |eingang|bij|credit eur|depot|credito|crédito|abono|abonos|accrediti|accredito|entrate|wplaty|uznania
        |приход|зачисление|кредит|received""",
    "indicator": """credit debit|debit credit|creditdebet|af bij|d c|c d|dc|cd|cr dr|dr cr|d k|soll haben
        |s h|sign|debit credit indicator|credit debit indicator|bevetel kiadas|transaction type
        |credit or debit|debit or credit""",
    "balance": """balance|running balance|runningbalance|ending balance|closing balance|saldo|kontostand
        |saldo na trn|solde|saldo contable|saldo disponible|saldo dopo|saldo po operacji|остаток|баланс
        |boeksaldo|balance after""",
    "currency": """currency|ccy|curr|currency code|wahrung|waehrung|valuta code|valutacode|munt|devise
        |monnaie|monn|moneda|divisa|valuta conto|moeda|waluta|валюта|mena|mena uctu|tranzakcio devizaneme""",
    "payee": """payee|name|counterparty|counterparty name|merchant|merchant name|partner name|beneficiary
        |recipient|to|empfanger|beguenstigter zahlungspflichtiger|begunstigter zahlungspflichtiger
        |auftraggeber empfanger|zahlungsempfanger|name zahlungsbeteiligter|naam|naam tegenpartij|tegenrekeninghouder
        |tegenpartij|beneficiaire|tiers|beneficiario|ordenante|destinatario|beneficjent|odbiorca
        |nazwa kontrahenta|получатель|контрагент|partner neve|nazev protiuctu|payee name|naam omschrijving
        |naam tegenrekening|tegenrekening naam|auftraggeber|empfaenger|zahlungsempfaenger|begunstigter auftraggeber
        |beguenstigter auftraggeber|auftraggeber empfaenger""",
    "description": """description|details|transaction details|transaction description|narrative|memo
        |description 1|description 2|description 3|original description|title|note|notes|reference|remarks
        |verwendungszweck|umsatztext|text|beschreibung|transaktionsbeschreibung|zahlungsreferenz|purpose
        |omschrijving|mededelingen|vrije mededeling|libelle|libellé|detail|detail de l ecriture|remarque
        |concepto|descripcion|causale|descrizione|descricao|historico|opis|opis operacji|tytul|tytul operacji
        |описание|описание операции|назначение платежа|zprava|kozlemeny|payment reference|summary
        |transaction type description""",
    # The kind of booking (Lastschrift, Kartenzahlung, Überweisung): the memo beside the purpose,
    # the description only when the file has no other text (csv_detect._columns).
    "memo": """buchungstext|umsatzart|umsatztyp|transaktionstyp|buchungsart|vorgang|mutatiesoort|type betaling
        |betaalwijze|type|booking text|posting text|typ transakce|tipo|tipo movimiento|type d operation
        |type de transaction""",
    "bank_id": """id|transaction id|transactionid|reference number|ref|ref #|reference id|fitid|check number
        |check or slip|checknumber|check|num|number|transaktions id|transaction reference|buchungsreferenz
        |referentie|volgnr|transactiereferentie|n de transaction|numero de transaction|referencia
        |numero operazione|referenz|номер операции|референс проводки|transferwise id|receipt id""",
    "account": """account|account number|account no|iban|kontonummer|auftragskonto|konto|rekening|rekeningnummer
        |iban bban|compte|numero de compte|cuenta|conto|numer rachunku|номер счета|szamlaszam|cislo uctu
        |account name|product|produit""",
    "ignore": """original amount|original currency|foreign amount|fremdwahrung|betrag fremdwahrung
        |local amount|local currency|converted amount|exchange rate|wechselkurs|fee|fees|amount fee
        |originalbetrag|originalwahrung|umrechnungskurs|transfer amount|transfer amount currency
        |beginning balance|available balance|amount refunded|tax|amount tax|category|kategorie""",
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"\((?:[a-z]{3}|[^)]*)\)$", "", text.strip())  # "Betrag (EUR)"
    return re.sub(r"[^\w]+", " ", text).strip()


VOCABULARY: dict[str, str] = {
    _fold(name): role for role, names in _NAMES.items() for name in names.split("|") if name.strip()
}


def role_of(header: str) -> str | None:
    """The role a header name announces, or None when it is not a word we know."""
    folded = _fold(header)
    if folded in VOCABULARY:
        return VOCABULARY[folded]
    stripped = re.sub(r"\s*\b[a-z]{3}$", "", folded)  # "Amount CZK", "Bedrag EUR"
    return VOCABULARY.get(stripped)


def currency_tag(header: str) -> str | None:
    """The ISO code a header carries, as in "Amount (EUR)" or "Amount CZK"."""
    match = re.search(r"\(([A-Z]{3})\)\s*$|\b([A-Z]{3})\s*$", header.strip())
    if not match:
        return None
    return match.group(1) or match.group(2)


DEBIT_MARKS = frozenset(
    {
        "d",
        "dr",
        "db",
        "debit",
        "debet",
        "s",
        "soll",
        "af",
        "out",
        "outflow",
        "o",
        "expense",
        "withdrawal",
        "kiadas",
        "dbit",
        "-",
        "расход",
    }
)
CREDIT_MARKS = frozenset(
    {
        "c",
        "cr",
        "k",
        "credit",
        "h",
        "haben",
        "bij",
        "in",
        "inflow",
        "i",
        "income",
        "deposit",
        "bevetel",
        "crdt",
        "+",
        "приход",
    }
)


def indicator_sign(cell: str) -> int | None:
    """-1 for a debit mark ("D", "S", "Af", "Debit"), +1 for a credit mark, None otherwise."""
    folded = _fold(cell) or cell.strip()
    if folded in DEBIT_MARKS:
        return -1
    if folded in CREDIT_MARKS:
        return 1
    return None
