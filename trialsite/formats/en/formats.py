from trialsite.formats.en_GB.formats import *  # noqa: F403  (the same ISO formats for plain "en")
