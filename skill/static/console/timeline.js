/* Breathing Room dev console: SSML -> readable text and a playable timeline. No DOM here.
 *
 * readable() is a line-for-line port of skill/transcript.py (the terminal chat's view), so the
 * console and `breathing-room chat` show a reply the same way.
 *
 * timeline() turns a reply into the items the player walks through in order:
 *   say   -- words at their natural length (est. words / words_per_second + 0.2 s, as the
 *            speech layer estimates them when it sizes the breaks)
 *   cue   -- a breathing cue: starts a phase (inhale / hold / exhale) that lasts from this cue
 *            to the next one: the cue's estimate plus the breaks after it, which is exactly the
 *            Beat's seconds the speech layer planned
 *   pause -- silence (<break>s in a row, summed)
 *   audio -- a rendered file; its phases come from the manifest's cue onsets
 * Cue texts are recognised from the /console/api/phases table; the technique is the one in
 * the session (routine.technique) when there is one, else the one that explains the cues best.
 */
(function (root) {
  "use strict";

  const TOKEN =
    /<break time="(\d+(?:\.\d+)?)(ms|s)"\/>|<audio src="([^"]*)"\/>|<[^>]+>|([^<]+)/g;

  function unescapeXml(text) {
    return text
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&");
  }

  /** SSML -> [{type: "text", text} | {type: "break", seconds} | {type: "audio", src, file}] */
  function tokens(ssml) {
    const out = [];
    for (const m of (ssml || "").matchAll(TOKEN)) {
      if (m[1] !== undefined) {
        const amount = parseFloat(m[1]);
        out.push({ type: "break", seconds: m[2] === "ms" ? amount / 1000 : amount });
      } else if (m[3] !== undefined) {
        const src = unescapeXml(m[3]);
        out.push({ type: "audio", src, file: src.split("/").pop() });
      } else if (m[4] !== undefined) {
        out.push({ type: "text", text: unescapeXml(m[4]) });
      }
      // any other tag (<speak>, <prosody>) is structure only
    }
    return out;
  }

  /** Python's f"{x:.1f}": like toFixed(1), but exact ties round half to even. */
  function oneDecimal(x) {
    const quarters = x * 4; // exact for doubles; a tie at .x5 is an odd number of quarters
    if (Number.isInteger(quarters) && Math.abs(quarters) % 2 === 1) {
      const tenths = x * 10; // exact here (small multiples of 0.25)
      const low = Math.floor(tenths);
      return ((low % 2 === 0 ? low : low + 1) / 10).toFixed(1);
    }
    return x.toFixed(1);
  }

  /** The same text as skill/transcript.py readable(): pauses summed and shown. */
  function readable(ssml) {
    const parts = [];
    let pause = 0.0;
    const flush = () => {
      if (pause >= 0.05) parts.push(`[pause ${oneDecimal(pause)}s]`);
      pause = 0.0;
    };
    for (const token of tokens(ssml)) {
      if (token.type === "break") {
        pause += token.seconds;
      } else if (token.type === "audio") {
        flush();
        parts.push(`[audio ${token.file}]`);
      } else if (token.text.trim()) {
        flush();
        parts.push(token.text.trim());
      }
    }
    flush();
    return parts.join(" ");
  }

  /** skill/routines/timing.py spoken_seconds(): the estimate the breaks were sized with. */
  function spokenSeconds(text, wordsPerSecond) {
    const words = text.split(/\s+/).filter(Boolean).length;
    return words ? Math.round((words / wordsPerSecond + 0.2) * 1000) / 1000 : 0;
  }

  /** Text runs, breaks and audio: adjacent text tokens merged, consecutive breaks summed. */
  function chunks(ssml) {
    const out = [];
    for (const token of tokens(ssml)) {
      const last = out[out.length - 1];
      if (token.type === "text") {
        if (last && last.type === "text") last.text += token.text;
        else out.push({ type: "text", text: token.text });
      } else if (token.type === "break") {
        if (last && last.type === "break") last.seconds += token.seconds;
        else out.push({ type: "break", seconds: token.seconds });
      } else {
        out.push(token);
      }
    }
    for (const chunk of out) if (chunk.type === "text") chunk.text = chunk.text.trim();
    return out.filter((chunk) => chunk.type !== "text" || chunk.text);
  }

  /** The phase whose cue ends `text`, preferring `expected` (the next phase of the cycle). */
  function cueAtEnd(text, phases, expected) {
    const order = phases.map((_, i) => (expected + i) % phases.length);
    let best = null;
    for (const i of order) {
      const cue = phases[i].cue_text;
      if (text === cue || text.endsWith(" " + cue)) {
        if (!best || cue.length > best.phase.cue_text.length) best = { index: i, phase: phases[i] };
      }
    }
    return best;
  }

  /** Walk the text runs through one technique's cycle; count cues found in cycle order. */
  function assign(runs, phases) {
    let expected = 0;
    let inOrder = 0;
    const found = runs.map((text) => {
      const hit = cueAtEnd(text, phases, expected);
      if (!hit) return null;
      if (hit.index === expected) inOrder += 1;
      expected = (hit.index + 1) % phases.length;
      return hit.phase;
    });
    return { found, inOrder, count: found.filter(Boolean).length };
  }

  function chooseTechnique(runs, table, preferred) {
    const techniques = (table && table.techniques) || {};
    if (preferred && techniques[preferred]) {
      return { id: preferred, ...assign(runs, techniques[preferred].phases) };
    }
    let best = null;
    for (const [id, technique] of Object.entries(techniques)) {
      const result = { id, ...assign(runs, technique.phases) };
      if (
        result.count &&
        (!best ||
          result.inOrder > best.inOrder ||
          (result.inOrder === best.inOrder && result.count > best.count))
      ) {
        best = result;
      }
    }
    return best;
  }

  /**
   * A reply's playable items. `phases` is /console/api/phases, `cues` is /console/api/cues
   * (or null), `technique` the routine's technique id from the session when known.
   */
  function timeline(ssml, phases, cues, technique) {
    const wps = (phases && phases.voice && phases.voice.words_per_second) || 2.4;
    const parts = chunks(ssml);
    const runs = parts.filter((p) => p.type === "text").map((p) => p.text);
    const chosen = chooseTechnique(runs, phases, technique);
    const items = [];
    let run = 0;
    parts.forEach((part, index) => {
      if (part.type === "break") {
        items.push({ type: "pause", seconds: part.seconds });
      } else if (part.type === "audio") {
        const known = (cues && cues.files && cues.files[part.file]) || null;
        items.push({
          type: "audio",
          src: part.src,
          file: part.file,
          key: known ? known.key : null,
          text: known ? known.text : null,
          seconds: known ? known.seconds : null,
          cues: known ? known.cues : [],
        });
      } else {
        const phase = chosen ? chosen.found[run] : null;
        run += 1;
        if (!phase) {
          items.push({ type: "say", text: part.text, seconds: spokenSeconds(part.text, wps) });
          return;
        }
        const prefix = part.text.slice(0, part.text.length - phase.cue_text.length).trim();
        if (prefix) items.push({ type: "say", text: prefix, seconds: spokenSeconds(prefix, wps) });
        const said = spokenSeconds(phase.cue_text, wps);
        const next = parts[index + 1];
        const rest = next && next.type === "break" ? next.seconds : 0;
        items.push({
          type: "cue",
          text: phase.cue_text,
          seconds: said,
          phase: {
            technique: chosen.id,
            name: phase.name,
            kind: phase.kind,
            from: phase.from,
            to: phase.to,
            seconds: Math.round((said + rest) * 1000) / 1000,
          },
        });
      }
    });
    // A cue's phase already covers the break after it: don't wait for that break twice.
    for (let i = 0; i < items.length - 1; i += 1) {
      if (items[i].type === "cue" && items[i + 1].type === "pause") {
        items[i].seconds = items[i].phase.seconds;
        items[i + 1].covered = true;
      }
    }
    return items.filter((item) => !item.covered);
  }

  /** The phase playing at `t` seconds into an audio item, from the manifest's cue onsets. */
  function audioPhaseAt(item, t) {
    const cues = item.cues || [];
    let index = -1;
    for (let i = 0; i < cues.length; i += 1) {
      if (cues[i].at <= t) index = i;
      else break;
    }
    if (index < 0 || !cues[index].kind) return null;
    const cue = cues[index];
    let end = index + 1 < cues.length ? cues[index + 1].at : null;
    if (end === null) {
      // The last cue: as long as this phase was the time before, else to the end of the file.
      let previous = null;
      for (let i = index - 1; i >= 0; i -= 1) {
        if (cues[i].key === cue.key && i + 1 < cues.length) {
          previous = cues[i + 1].at - cues[i].at;
          break;
        }
      }
      end = previous !== null ? cue.at + previous : item.seconds || cue.at + 4;
    }
    return { kind: cue.kind, from: cue.from, to: cue.to, start: cue.at, seconds: end - cue.at };
  }

  root.BreathingRoomTimeline = {
    tokens,
    readable,
    spokenSeconds,
    chunks,
    timeline,
    audioPhaseAt,
    oneDecimal,
  };
})(typeof window !== "undefined" ? window : globalThis);
