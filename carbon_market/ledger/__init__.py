"""The registry: accounts that hold units.

This issue's part is the account itself (numbers with check digits, kinds, status) so that
registering an enterprise opens its compliance account. The double-entry ledger (units,
holdings, transactions, postings) is built on top of it in the ledger issue.
"""
