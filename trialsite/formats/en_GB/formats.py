# ISO dates everywhere (YYYY-MM-DD, YYYY-MM-DD HH:MM): Django's own en_GB formats ("1 Jan 2021") would win over
# the settings, since localisation is always on in Django 5.
DATE_FORMAT = SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "m-d"
# Forms render a date in the first input format: ISO first, so an <input type="date"> shows the saved value (the
# browser accepts only YYYY-MM-DD there); Django's en_GB list would render "14/10/2010", which it drops.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
