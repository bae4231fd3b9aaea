"""CSV in every shape banks produce: detect the layout (`detect`, `identify`, `roles`), read the
table (`table`, `cells`, `text`), build transactions (`build`, `reader`), bank profiles
(`profiles`, data only) and balance checks (`balance`)."""
