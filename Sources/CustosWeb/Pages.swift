// CustosWeb renders pages.
