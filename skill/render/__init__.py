"""Build-time audio: text-to-speech, pydub assembly, the manifest, and checking the files.

Nothing here is imported when the skill serves requests (the web app reads only the manifest,
through :mod:`skill.audio`), so the service needs neither gTTS, pydub nor ffmpeg at run time.

Modules, in the order a build uses them:

* :mod:`.engines` -- turn one phrase into speech bytes (gTTS, or espeak-ng offline)
* :mod:`.codec` -- decode and encode through the ffmpeg binary that ``imageio-ffmpeg`` ships
* :mod:`.assembly` -- trim, level and place phrases on a silent bed, exactly on the beat
* :mod:`.measure` -- find onsets and loudness in rendered audio (the build checks itself)
* :mod:`.recipes` -- what a build should contain, and the hash that says when to rebuild
* :mod:`.build` -- the ``build-audio`` command: cache, render, export, manifest, prune
* :mod:`.mp3` and :mod:`.check` -- the ``check-audio`` command against Alexa's rules
"""
