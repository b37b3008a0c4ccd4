"""``breathing-room build-audio``: render every phrase and timed span, write the manifest.

A build has four stages, and nothing in ``audio/`` that a running skill uses is touched
until the first three have succeeded:

1. **plan** (pure, cheap): every piece the content can play, its recipe, and whether the
   last build's file still fits it (``--dry-run`` stops here and says why for each);
2. **speak**: phrases missing from the phrase cache are synthesised, a few at a time; an
   engine that fails (Google unreachable) stops the build with one line;
3. **assemble**: phrases are levelled and trimmed, tracks placed on the beat, everything
   exported as MP3 under a temporary name and moved to its content-hash name;
4. **publish**: the manifest and the build state are replaced atomically, and only then are
   files that nothing refers to any more deleted.

By default breathing tracks are built at each technique's default pace only (both with and
without holds); ``--all`` builds every pace. Anything not built is spoken as text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..audio import FILE_NAME, MANIFEST_NAME, Entry, Manifest, ManifestError, default_audio_dir
from ..content import ContentError, load_all
from . import engines, recipes
from .engines import Engine, EngineError
from .recipes import Piece

STATE_NAME = "cache/builds.json"
PHRASES_DIR = "cache/phrases"
STATE_VERSION = 1


class BuildError(Exception):
    """The build cannot go on; ``str()`` is one line. Previous audio is left as it was."""


@dataclass(frozen=True)
class Options:
    engine: Engine
    out: Path = field(default_factory=default_audio_dir)
    content: Path | None = None
    locales: tuple[str, ...] | None = None
    only: tuple[str, ...] = ()
    everything: bool = False
    force: bool = False
    dry_run: bool = False
    #: Show progress bars: None = when writing to a terminal.
    progress: bool | None = None


@dataclass
class Summary:
    """What a build did, for the closing lines and for tests."""

    spoken: list[str] = field(default_factory=list)  # phrase keys synthesised
    cached: int = 0  # phrases taken from the phrase cache
    built: list[str] = field(default_factory=list)  # "locale key" of pieces made
    tracks: int = 0  # how many of ``built`` are tracks
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    pieces: int = 0
    seconds: float = 0.0
    size: int = 0
    pruned: int = 0
    elapsed: float = 0.0
    dry_run: bool = False

    def lines(self) -> list[str]:
        phrases = len(self.built) - self.tracks
        built = f"{phrases} phrases and {self.tracks} tracks built, {self.unchanged} unchanged"
        if self.skipped:
            built += f", {len(self.skipped)} skipped (spoken as text)"
        if self.dry_run:
            return [f"dry run: would render {len(self.spoken)} phrases ({self.cached} cached) "
                    f"and build {phrases} phrases and {self.tracks} tracks; "
                    f"{self.unchanged} unchanged"]
        out = [f"phrases: {len(self.spoken)} rendered, {self.cached} from cache",
               f"pieces:  {built}"]
        pruned = f", {self.pruned} stale files removed" if self.pruned else ""
        out.append(f"audio:   {self.pieces} pieces, {_duration(self.seconds)}, "
                   f"{self.size / 1e6:.1f} MB{pruned}")
        out += [f"skipped {line}" for line in self.skipped]
        out.append(f"done in {self.elapsed:.1f} s")
        return out


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


# --- files ----------------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step, so a reader sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".building-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


class PhraseCache:
    """Synthesised phrases by speech key: ``cache/phrases/<speech key>.<suffix>``."""

    def __init__(self, folder: Path, suffix: str) -> None:
        self.folder = folder
        self.suffix = suffix

    def path(self, speech_key: str) -> Path:
        return self.folder / f"{speech_key}.{self.suffix}"

    def has(self, speech_key: str) -> bool:
        return self.path(speech_key).is_file()

    def get(self, speech_key: str) -> bytes:
        return self.path(speech_key).read_bytes()

    def put(self, speech_key: str, data: bytes) -> None:
        _write_atomic(self.path(speech_key), data)

    def drop(self, speech_key: str) -> None:
        self.path(speech_key).unlink(missing_ok=True)


def _read_state(out: Path) -> dict[str, dict[str, dict]]:
    """The last build's pieces, per locale and key, with the recipe each was made from."""
    try:
        data = json.loads((out / STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return {}
    pieces = data.get("pieces")
    return pieces if isinstance(pieces, dict) else {}


# --- plan -----------------------------------------------------------------------------------


def _why(piece: Piece, old: dict | None, out: Path, force: bool) -> str:
    """Why ``piece`` must be (re)built, or "" when the last build's file still fits."""
    if force:
        return "--force"
    if not isinstance(old, dict):
        return "new"
    if old.get("recipe") != piece.recipe:
        before = old.get("speech") if isinstance(old.get("speech"), dict) else {}
        changed = [key for key, sk, _ in piece.speech if before.get(key) != sk]
        if changed:
            return f"{'its text or voice' if piece.track is None else changed[0]} changed"
        return "timing or sound settings changed"
    if not (out / str(old.get("file"))).is_file():
        return "file missing"
    return ""


@dataclass(frozen=True)
class Plan:
    candidates: list[Piece]
    todo: list[tuple[Piece, str]]
    unchanged: int
    #: speech key -> (locale, text, first phrase key using it), for what ``todo`` needs.
    speech: dict[str, tuple[str, str, str]]
    #: speech keys to synthesise, with the reason.
    to_speak: list[tuple[str, str]]
    #: The last build's pieces (see :func:`_read_state`).
    state: dict


def plan(options: Options) -> Plan:
    try:
        contents = load_all(options.content)
    except ContentError as exc:
        raise BuildError(str(exc)) from None
    if options.locales:
        unknown = sorted(set(options.locales) - set(contents))
        if unknown:
            raise BuildError(
                f"no content for locale {', '.join(unknown)} (have: {', '.join(sorted(contents))})"
            )
    candidates = [p for c in contents.values() for p in recipes.pieces(c, options.engine)]
    wanted = recipes.select(
        candidates, only=options.only, locales=options.locales, everything=options.everything
    )
    if not wanted:
        raise BuildError(f"nothing to build matches --only {' '.join(options.only)}")
    state = _read_state(options.out)
    todo = []
    for piece in wanted:
        reason = _why(piece, state.get(piece.locale, {}).get(piece.key), options.out,
                      options.force)
        if reason:
            todo.append((piece, reason))
    speech: dict[str, tuple[str, str, str]] = {}
    for piece, _ in todo:
        for key, sk, text in piece.speech:
            speech.setdefault(sk, (piece.locale, text, key))
    cache = PhraseCache(options.out / PHRASES_DIR, options.engine.suffix)
    to_speak = []
    for sk in speech:
        if options.force:
            to_speak.append((sk, "--force"))
        elif not cache.has(sk):
            to_speak.append((sk, "not in the phrase cache"))
    return Plan(candidates, todo, len(wanted) - len(todo), speech, to_speak, state)


def describe(p: Plan, engine: Engine) -> list[str]:
    """The dry run's report: what would be rendered, and why."""
    lines = [f"would render {len(p.to_speak)} phrases with {engine.name}:"]
    lines += [f"  {p.speech[sk][0]} {p.speech[sk][2]}: {why}" for sk, why in p.to_speak]
    lines.append(f"would build {len(p.todo)} pieces:")
    lines += [f"  {piece.locale} {piece.key}: {why}" for piece, why in p.todo]
    lines.append(f"{p.unchanged} pieces are up to date")
    return lines


# --- speak, assemble, export ----------------------------------------------------------------


def _bar(options: Options, total: int, desc: str, unit: str):
    from tqdm import tqdm

    disable = None if options.progress is None else not options.progress
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr,
                leave=False)


def _parallel(
    options: Options, workers: int, items: Iterable, work: Callable, desc: str, unit: str
) -> list:
    """``work(item)`` for each item on ``workers`` threads, with a progress bar.

    Stops at the first exception (pending work is cancelled) and re-raises it.
    """
    items = list(items)
    results = []
    with _bar(options, len(items), desc, unit) as bar, ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(work, item) for item in items}
        while futures:
            done, futures = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    for pending in futures:
                        pending.cancel()
                    raise future.exception()
                results.append(future.result())
                bar.update(1)
    return results


def _speak(options: Options, p: Plan, cache: PhraseCache) -> None:
    engine = options.engine

    def one(item: tuple[str, str]) -> None:
        sk = item[0]
        locale, text, _ = p.speech[sk]
        cache.put(sk, engine.synthesize(text, locale))

    try:
        _parallel(options, engine.concurrency, p.to_speak, one, "speaking", "phrase")
    except EngineError as exc:
        raise BuildError(str(exc)) from None


def _prepare(options: Options, p: Plan, cache: PhraseCache) -> dict:
    """Decode, level and trim every phrase the pieces to build need (by speech key)."""
    from . import assembly, codec

    def one(sk: str):
        try:
            return sk, assembly.prepare(codec.decode(cache.get(sk), f"phrase {p.speech[sk][2]}"))
        except codec.CodecError as exc:
            cache.drop(sk)  # a bad answer from the engine must not stay cached
            raise BuildError(f"{exc}; removed it from the cache, run the build again") from None

    workers = os.cpu_count() or 2
    return dict(_parallel(options, workers, p.speech, one, "preparing", "phrase"))


def _export(audio, out: Path) -> tuple[str, str, int]:
    """Encode to a temporary file, then move it to its content-hash name."""
    import hashlib

    from . import codec

    fd, tmp = tempfile.mkstemp(dir=out, prefix=".building-", suffix=".mp3")
    os.close(fd)
    try:
        codec.encode_mp3(audio, Path(tmp))
        data = Path(tmp).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        name = f"{digest[:16]}.mp3"
        os.replace(tmp, out / name)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return name, digest, len(data)


def _assemble(options: Options, p: Plan, voices: dict, summary: Summary) -> dict:
    """Build every piece in the plan; returns new state entries by (locale, key).

    Pieces with the same recipe (two cues that both say "Hold.") are made once.
    """
    from . import assembly

    first: dict[str, Piece] = {}
    for piece, _ in p.todo:
        first.setdefault(piece.recipe, piece)

    def one(piece: Piece):
        speech = {key: sk for key, sk, _ in piece.speech}
        try:
            if piece.track is None:
                audio, cues = assembly.standalone(voices[piece.speech[0][1]]), []
            else:
                done = assembly.assemble(piece.track, {k: voices[sk] for k, sk in speech.items()})
                audio, cues = done.audio, [list(c) for c in done.schedule.cues]
        except assembly.TimingError as exc:
            return piece.recipe, str(exc)
        name, digest, _ = _export(audio, options.out)
        seconds = round(assembly.seconds_of(audio), 3)
        return piece.recipe, {"file": name, "hash": digest, "seconds": seconds, "cues": cues}

    made = dict(_parallel(options, os.cpu_count() or 2, first.values(), one, "assembling",
                          "piece"))
    entries: dict[tuple[str, str], dict] = {}
    for piece, _ in p.todo:
        result = made[piece.recipe]
        if isinstance(result, str):
            summary.skipped.append(f"{piece.locale} {piece.key}: {result}")
            continue
        speech = {key: sk for key, sk, _ in piece.speech}
        entries[(piece.locale, piece.key)] = {"recipe": piece.recipe, "speech": speech, **result}
        summary.built.append(f"{piece.locale} {piece.key}")
        summary.tracks += piece.track is not None
    return entries


# --- publish --------------------------------------------------------------------------------


def _publish(options: Options, p: Plan, fresh: dict, summary: Summary) -> None:
    """Write the manifest and state for every valid piece, then prune unused files."""
    old_state = p.state
    state: dict[str, dict[str, dict]] = {}
    for piece in p.candidates:
        entry = fresh.get((piece.locale, piece.key))
        if entry is None:
            old = old_state.get(piece.locale, {}).get(piece.key)
            if isinstance(old, dict) and not _why(piece, old, options.out, force=False):
                entry = old
        if entry is not None:
            state.setdefault(piece.locale, {})[piece.key] = entry
    locales = {
        locale: {
            key: Entry(e["file"], e["hash"], e["seconds"], tuple(map(tuple, e["cues"])))
            for key, e in pieces.items()
        }
        for locale, pieces in state.items()
    }
    manifest_path = options.out / MANIFEST_NAME
    try:
        previous = Manifest.read(manifest_path)
    except ManifestError:
        previous = None
    built = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = Manifest(options.engine.name, built, locales)
    same = (
        previous is not None
        and {**previous.to_json(), "built": ""} == {**manifest.to_json(), "built": ""}
    )
    if not same:
        _write_atomic(manifest_path, _json_bytes(manifest.to_json()))
    if state != old_state:
        _write_atomic(options.out / STATE_NAME, _json_bytes({"version": STATE_VERSION,
                                                              "pieces": state}))
    used = {e.file for pieces in locales.values() for e in pieces.values()}
    for path in options.out.iterdir():
        if FILE_NAME.fullmatch(path.name) and path.name not in used:
            path.unlink(missing_ok=True)
            summary.pruned += 1
    for folder in (options.out, options.out / "cache", options.out / PHRASES_DIR):
        for leftover in folder.glob(".building-*"):  # from an interrupted build
            leftover.unlink(missing_ok=True)
    summary.pieces = len(manifest)
    summary.seconds = sum(e.seconds for pieces in locales.values() for e in pieces.values())
    summary.size = sum((options.out / name).stat().st_size for name in used)


def build(options: Options, say: Callable[[str], None] = print) -> Summary:
    """Run a build (or a dry run); raises :class:`BuildError` with one line on failure."""
    started = time.perf_counter()
    summary = Summary(dry_run=options.dry_run)
    p = plan(options)
    summary.unchanged = p.unchanged
    speaking = {sk for sk, _ in p.to_speak}
    summary.spoken = [p.speech[sk][2] for sk in speaking]
    summary.cached = len(p.speech) - len(speaking)
    if options.dry_run:
        for line in describe(p, options.engine):
            say(line)
        summary.built = [f"{piece.locale} {piece.key}" for piece, _ in p.todo]
        summary.tracks = sum(piece.track is not None for piece, _ in p.todo)
        summary.elapsed = time.perf_counter() - started
        return summary
    options.out.mkdir(parents=True, exist_ok=True)
    cache = PhraseCache(options.out / PHRASES_DIR, options.engine.suffix)
    fresh: dict = {}
    if p.todo:
        _speak(options, p, cache)
        voices = _prepare(options, p, cache)
        fresh = _assemble(options, p, voices, summary)
    _publish(options, p, fresh, summary)
    summary.elapsed = time.perf_counter() - started
    return summary


# --- command line ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="breathing-room build-audio",
        description="Pre-render the skill's voice into audio/ (MP3s and manifest.json).",
    )
    add_arguments(cli)
    return cli


def add_arguments(cli: argparse.ArgumentParser) -> None:
    cli.add_argument("--engine", choices=sorted(engines.ENGINES), default="gtts",
                     help="gtts (default; needs the internet) or espeak (espeak-ng, offline)")
    cli.add_argument("--locale", action="append", dest="locales", metavar="LOCALE",
                     help="only this locale, e.g. en-US (repeatable; default: all)")
    cli.add_argument("--only", action="append", default=[], metavar="ROUTINE",
                     help="only pieces under this key, e.g. breathing, breathing.BOX, "
                     "grounding, messages (repeatable)")
    cli.add_argument("--all", action="store_true", dest="everything",
                     help="every breathing pace, not only each technique's default")
    cli.add_argument("--force", action="store_true",
                     help="render and build everything again, ignoring the caches")
    cli.add_argument("--dry-run", action="store_true",
                     help="list what would be rendered and why, change nothing")
    cli.add_argument("--out", type=Path, default=None,
                     help="audio folder (default: $BREATHING_ROOM_AUDIO or audio/)")
    cli.add_argument("--content", type=Path, default=None,
                     help="content folder (default: $BREATHING_ROOM_CONTENT or content/)")


def run(args: argparse.Namespace, engine: Engine | None = None) -> int:
    """Run the command; ``engine`` overrides ``--engine`` (tests tune its backoff)."""
    try:
        options = Options(
            engine=engine or engines.make(args.engine),
            out=args.out or default_audio_dir(),
            content=args.content,
            locales=tuple(args.locales) if args.locales else None,
            only=tuple(args.only),
            everything=args.everything,
            force=args.force,
            dry_run=args.dry_run,
        )
        summary = build(options)
    except (BuildError, EngineError) as exc:
        print(f"build-audio: {exc}", file=sys.stderr)
        return 1
    for line in summary.lines():
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(parser().parse_args(argv))
