"""Internal speed-ups and test hooks, in one clearly named place.

`gcpause` (the cycle collector paused while one file is imported), `lazy` (heavy libraries
imported on first use, for start-up time) and `crash` (named crash points for the kill trials).
Nothing here changes what a run does, only how fast it starts and runs, or where a test kills it.
"""
