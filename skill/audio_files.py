"""``GET /audio/<file>.mp3``: the pre-rendered voice, served so Alexa and CDNs cache it well.

File names are content hashes, so a file never changes under its name: responses are
``Cache-Control: public, max-age=31536000, immutable`` with a strong ETag (the file's
SHA-256 prefix, which is its name), and Range requests get 206 partial content. Only names of
the form ``<16 hex digits>.mp3`` are served, from the audio folder itself, nothing else
(not the manifest, not the cache).

:func:`init_app` loads the manifest once at start-up and returns the :class:`AudioLibrary`
the handlers speak from. Where Alexa fetches files from:

* ``AUDIO_BASE_URL`` set (e.g. a CDN): ``{AUDIO_BASE_URL}/<file>.mp3``; files need not be on
  this server at all.
* not set: this server's own ``/audio/<file>.mp3``, with the host and scheme of each request
  (so behind a TLS-terminating proxy, the proxy must pass ``X-Forwarded-Proto``). Entries
  whose file is missing here are dropped at start-up, so Alexa is never sent to a 404.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory, url_for

from .audio import (
    FILE_NAME,
    MANIFEST_NAME,
    AudioLibrary,
    Manifest,
    UrlFor,
    base_url_joiner,
    default_audio_dir,
)

log = logging.getLogger(__name__)

bp = Blueprint("audio", __name__)

ONE_YEAR = 31_536_000


@bp.get("/audio/<name>")
def audio_file(name: str):
    if not FILE_NAME.fullmatch(name):
        abort(404)
    folder = current_app.config["AUDIO_DIR"]
    response = send_from_directory(
        folder,
        name,
        mimetype="audio/mpeg",
        conditional=True,
        etag=name.removesuffix(".mp3"),
        max_age=ONE_YEAR,
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def _own_urls(name: str) -> str | None:
    """This server's URL for ``name``, from the request being answered."""
    try:
        return url_for("audio.audio_file", name=name, _external=True)
    except RuntimeError:  # no request (and no SERVER_NAME): nothing to build a URL from
        return None


def init_app(app: Flask) -> AudioLibrary:
    """Load the manifest, register ``/audio/``, and say at start-up what Alexa will get."""
    folder = Path(app.config.get("AUDIO_DIR") or default_audio_dir()).resolve()
    app.config["AUDIO_DIR"] = str(folder)
    manifest = Manifest.load(folder / MANIFEST_NAME)
    base = app.config.get("AUDIO_BASE_URL")
    urls: UrlFor
    if base:
        urls = base_url_joiner(base)
        if not base.startswith("https://"):
            log.warning(
                "AUDIO_BASE_URL %s is not https: Alexa will not play audio from it, so every "
                "piece will be spoken as text. Use your public https prefix.",
                base,
            )
    else:
        urls = _own_urls
        present = manifest.keeping(lambda entry: (folder / entry.file).is_file())
        if len(present) < len(manifest):
            log.warning(
                "audio: %d of %d files listed in the manifest are missing from %s; those "
                "pieces are spoken as text. Rebuild with: breathing-room build-audio",
                len(manifest) - len(present), len(manifest), folder,
            )
        manifest = present
    if len(manifest):
        log.info("audio: %d pre-rendered pieces (%s, built %s)", len(manifest),
                 manifest.engine, manifest.built)
    app.register_blueprint(bp)
    return AudioLibrary(manifest, urls, loopback_http=bool(app.config.get("DEV")))
