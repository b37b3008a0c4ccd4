/* Breathing Room dev console: builds Alexa request envelopes, POSTs them to /alexa, shows
 * and plays the replies, and drives the breathing circle. Plain JS, no build step.
 *
 * The envelopes mirror skill/envelopes.py (Conversation) key for key, so the skill sees
 * exactly what `breathing-room chat`, the tests and a real Echo send.
 */
(function () {
  "use strict";

  const T = window.BreathingRoomTimeline;
  const $ = (id) => document.getElementById(id);
  const CONFIG = JSON.parse($("console-config").textContent);

  // --- envelopes (a port of skill/envelopes.py) -----------------------------------------------

  function hex32() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function uuid4() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const h = hex32();
    const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20)}`;
  }

  function nowIso() {
    return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** What an Echo Show adds: Display and APL interfaces, and its viewport. */
  const SCREEN_INTERFACES = {
    Display: { templateVersion: "1.0", markupVersion: "1.0" },
    "Alexa.Presentation.APL": { runtime: { maxVersion: "2023.3" } },
  };
  const SCREEN_VIEWPORT = {
    experiences: [{ arcMinuteWidth: 346, arcMinuteHeight: 216, canRotate: false, canResize: false }],
    mode: "HUB",
    shape: "RECTANGLE",
    pixelWidth: 1280,
    pixelHeight: 800,
    dpi: 160,
    currentPixelWidth: 1280,
    currentPixelHeight: 800,
    touch: ["SINGLE"],
    video: { codecs: ["H_264_42", "H_264_41"] },
  };

  class Conversation {
    constructor(locale) {
      this.skillId = CONFIG.skill_id;
      this.locale = locale;
      this.screen = false;
      this.newUser();
      this.deviceId = `amzn1.ask.device.${hex32().toUpperCase()}`;
    }

    newUser() {
      this.userId = `amzn1.ask.account.${hex32().toUpperCase()}`;
      this.sessionId = null;
      this.attributes = {};
      this.ended = true;
    }

    system() {
      return {
        application: { applicationId: this.skillId },
        user: { userId: this.userId },
        device: {
          deviceId: this.deviceId,
          supportedInterfaces: this.screen ? structuredClone(SCREEN_INTERFACES) : {},
        },
        apiEndpoint: "https://api.amazonalexa.com",
        apiAccessToken: "dev-token",
      };
    }

    envelope(request, withSession = true) {
      request = {
        requestId: `amzn1.echo-api.request.${uuid4()}`,
        timestamp: nowIso(),
        locale: this.locale,
        ...request,
      };
      const envelope = { version: "1.0", context: { System: this.system() } };
      if (this.screen) envelope.context.Viewport = structuredClone(SCREEN_VIEWPORT);
      if (withSession) {
        const isNew = this.ended || this.sessionId === null;
        if (isNew) {
          this.sessionId = `amzn1.echo-api.session.${uuid4()}`;
          this.attributes = {};
        }
        envelope.session = {
          new: isNew,
          sessionId: this.sessionId,
          application: { applicationId: this.skillId },
          user: { userId: this.userId },
          attributes: this.attributes,
        };
        this.ended = false;
      }
      envelope.request = request;
      return envelope;
    }

    launch() {
      this.ended = true;
      return this.envelope({ type: "LaunchRequest" });
    }

    slot(name, value, id) {
      const slot = { name, confirmationStatus: "NONE" };
      if (value === null || value === undefined) return slot;
      slot.value = value;
      const authority = {
        authority: `amzn1.er-authority.echo-sdk.${this.skillId}.${name}`,
        status: { code: id !== null && id !== undefined ? "ER_SUCCESS_MATCH" : "ER_SUCCESS_NO_MATCH" },
      };
      if (id !== null && id !== undefined) authority.values = [{ value: { name: value, id } }];
      slot.resolutions = { resolutionsPerAuthority: [authority] };
      return slot;
    }

    /** slots: {name: {value, id}} as the match route gives them. */
    intent(name, slots = {}) {
      const built = {};
      for (const [slotName, given] of Object.entries(slots)) {
        built[slotName] = this.slot(slotName, given.value, given.id);
      }
      return this.envelope({
        type: "IntentRequest",
        dialogState: "COMPLETED",
        intent: { name, confirmationStatus: "NONE", slots: built },
      });
    }

    sessionEnded(reason = "USER_INITIATED") {
      const envelope = this.envelope({ type: "SessionEndedRequest", reason });
      this.ended = true;
      return envelope;
    }

    absorb(response) {
      this.attributes = response.sessionAttributes || {};
      const body = response.response || {};
      // Alexa closes the session unless the skill asked a question.
      if (body.shouldEndSession !== false) this.ended = true;
    }
  }

  // --- the player -----------------------------------------------------------------------------

  const audio = $("player");
  const speechStatus = $("speech-status");
  const nowSaying = $("now-saying");

  function speechVoices() {
    return "speechSynthesis" in window ? window.speechSynthesis.getVoices() : [];
  }

  function speechRate() {
    const match = /^(\d+)%$/.exec((PHASES && PHASES.voice && PHASES.voice.rate) || "");
    return match ? Math.max(0.5, Math.min(2, parseInt(match[1], 10) / 100)) : 1;
  }

  class Player {
    constructor() {
      this.run = 0;
      this.item = null;
      this.phase = null; // text mode: {kind, from, to, seconds, startedAt (ms)}
      this.wakers = new Set(); // resolve the pending waits early when stopped
    }

    stop() {
      this.run += 1;
      this.item = null;
      this.phase = null;
      if ("speechSynthesis" in window) window.speechSynthesis.cancel();
      if (!audio.paused) audio.pause();
      for (const wake of [...this.wakers]) wake();
      nowSaying.textContent = "";
    }

    wait(seconds) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, seconds * 1000));
        this.wakers.add(done);
      });
    }

    /** Speak with the browser's voice; resolves when done, or null when there is no voice. */
    speak(text) {
      if (!speechVoices().length) return null;
      const locale = $("locale").value;
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = locale;
      utterance.rate = speechRate();
      const voice = speechVoices().find((v) => v.lang === locale);
      if (voice) utterance.voice = voice;
      return new Promise((resolve) => {
        utterance.onend = resolve;
        utterance.onerror = resolve;
        window.speechSynthesis.speak(utterance);
      });
    }

    async play(items) {
      this.stop();
      const run = this.run;
      for (const item of items) {
        if (run !== this.run) return;
        this.item = item;
        if (item.type === "pause") {
          await this.wait(item.seconds);
        } else if (item.type === "say") {
          nowSaying.textContent = item.text;
          const spoken = this.speak(item.text);
          // At least the estimate; longer when the browser's voice takes longer, so no words
          // are cut off (with a generous ceiling in case a voice never reports the end).
          const floor = this.wait(item.seconds);
          if (spoken) await Promise.race([spoken, this.wait(item.seconds * 3 + 3)]);
          await floor;
        } else if (item.type === "cue") {
          nowSaying.textContent = item.text;
          this.phase = { ...item.phase, startedAt: performance.now() };
          this.speak(item.text);
          await this.wait(item.seconds); // cue to cue exact, however long the voice takes
        } else if (item.type === "audio") {
          nowSaying.textContent = item.text || `Playing ${item.key || item.file}`;
          this.phase = null;
          await this.playAudio(item);
        }
      }
      if (run === this.run) {
        this.item = null;
        this.phase = null;
        nowSaying.textContent = "";
      }
    }

    playAudio(item) {
      return new Promise((resolve) => {
        const finish = () => {
          audio.onended = null;
          audio.onerror = null;
          this.wakers.delete(finish);
          resolve();
        };
        this.wakers.add(finish);
        audio.onended = finish;
        audio.onerror = () => {
          speechStatus.textContent = `Could not play ${item.file}; skipping it.`;
          finish();
        };
        // Served by this dev server, whatever public AUDIO_BASE_URL the SSML names.
        audio.src = `/audio/${encodeURIComponent(item.file)}`;
        audio.dataset.key = item.key || "";
        const started = audio.play();
        if (started && started.catch) {
          started.catch((error) => {
            if (error && error.name === "NotAllowedError") {
              speechStatus.textContent = "The browser blocked autoplay: press play on the audio controls.";
            }
          });
        }
      });
    }

    /** What the circle should show now: {kind, level, remaining} or null. */
    current() {
      const item = this.item;
      if (item && item.type === "audio" && audio.src) {
        const phase = T.audioPhaseAt(item, audio.currentTime);
        if (!phase) return null;
        return progress(phase, audio.currentTime - phase.start);
      }
      if (this.phase) return progress(this.phase, (performance.now() - this.phase.startedAt) / 1000);
      return null;
    }
  }

  function progress(phase, elapsed) {
    const p = phase.seconds > 0 ? Math.min(1, Math.max(0, elapsed / phase.seconds)) : 1;
    const eased = 0.5 - 0.5 * Math.cos(Math.PI * p);
    return {
      kind: phase.kind,
      level: phase.from + (phase.to - phase.from) * eased,
      remaining: Math.max(0, phase.seconds - elapsed),
    };
  }

  // --- the breathing circle -------------------------------------------------------------------

  const circle = $("circle");
  const breath = $("breath");
  const phaseLabel = $("phase-label");
  const phaseCount = $("phase-count");
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const KIND_LABEL = { inhale: "Breathe in", hold: "Hold", exhale: "Breathe out" };
  let restLevel = 0;

  function frame() {
    const now = player.current();
    const kind = now ? now.kind : "rest";
    const level = now ? now.level : restLevel;
    if (now) restLevel = now.level;
    if (breath.dataset.phase !== kind) breath.dataset.phase = kind;
    const label = now ? KIND_LABEL[kind] : player.item ? "Listen" : "Ready";
    if (phaseLabel.textContent !== label) phaseLabel.textContent = label;
    const count = now ? String(Math.ceil(now.remaining - 0.05) || "") : "";
    if (phaseCount.textContent !== count) phaseCount.textContent = count;
    breath.dataset.motion = reduceMotion.matches ? "reduced" : "full";
    if (reduceMotion.matches) {
      // No scaling: the phase is in words, and the circle only brightens and dims.
      circle.style.transform = "";
      circle.style.opacity = String(0.35 + 0.65 * level);
    } else {
      circle.style.opacity = "";
      circle.style.transform = `scale(${(0.45 + 0.55 * level).toFixed(4)})`;
    }
    breath.dataset.level = level.toFixed(2);
    requestAnimationFrame(frame);
  }

  // --- the page -------------------------------------------------------------------------------

  const transcript = $("transcript");
  const form = $("say-form");
  const input = $("utterance");
  let PHASES = null;
  let CUES = null;
  const player = new Player();
  const conversation = new Conversation($("locale").value);
  let queue = Promise.resolve();

  async function getJson(url, options) {
    const reply = await fetch(url, options);
    if (!reply.ok) throw new Error(`${url}: HTTP ${reply.status} ${await reply.text()}`);
    return reply.json();
  }

  async function loadTables() {
    const locale = encodeURIComponent($("locale").value);
    [PHASES, CUES] = await Promise.all([
      getJson(`/console/api/phases?locale=${locale}`),
      getJson(`/console/api/cues?locale=${locale}`),
    ]);
    const files = Object.keys(CUES.files).length;
    $("audio-status").textContent = CUES.built
      ? `Rendered audio: ${files} file${files === 1 ? "" : "s"} (${CUES.engine || "unknown engine"}).`
      : "No rendered audio yet: replies are spoken by the browser's voice.";
  }

  function updateSpeechStatus() {
    speechStatus.textContent = speechVoices().length
      ? "Text is spoken by the browser's voice, with the pauses timed as Alexa would."
      : "No browser voice available: the words are shown and timed, but not spoken.";
  }

  function entry(who, className) {
    const item = document.createElement("li");
    item.className = `turn ${className}`;
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = `${who}: `;
    item.append(label);
    transcript.append(item);
    return item;
  }

  function addText(parent, text, className) {
    const span = document.createElement("span");
    if (className) span.className = className;
    span.textContent = text;
    parent.append(span);
    return span;
  }

  function showReadable(parent, text) {
    // Pauses and audio markers get their own style, but keep their words: never colour only.
    const body = addText(parent, "", "said");
    for (const piece of text.split(/(\[(?:pause|audio) [^\]]+\])/)) {
      if (!piece) continue;
      const marker = /^\[(pause|audio) /.exec(piece);
      addText(body, piece, marker ? `marker ${marker[1]}` : null);
    }
  }

  function describeRequest(envelope, typed) {
    const request = envelope.request;
    let what = request.type;
    if (request.type === "IntentRequest") {
      const slots = Object.values(request.intent.slots)
        .filter((s) => s.value !== undefined)
        .map((s) => {
          const id = s.resolutions && s.resolutions.resolutionsPerAuthority[0].values;
          return `${s.name}=${s.value}${id ? ` (${id[0].value.id})` : ""}`;
        });
      what = request.intent.name + (slots.length ? ` {${slots.join(", ")}}` : "");
    } else if (request.type === "SessionEndedRequest") {
      what = `SessionEndedRequest (${request.reason})`;
    }
    const turn = entry("You", "you");
    if (typed) addText(turn, typed, "said");
    addText(turn, `${typed ? " → " : ""}${what}`, "request");
    if (envelope.session && envelope.session.new) addText(turn, " · new session", "request");
  }

  function showResponse(response) {
    const body = response.response || {};
    const turn = entry("Alexa", "alexa");
    const ssml = (body.outputSpeech || {}).ssml;
    if (ssml) {
      showReadable(turn, T.readable(ssml));
      const words = T.timeline(ssml, PHASES, CUES, null)
        .filter((item) => item.type === "audio" && item.text)
        .map((item) => item.text);
      if (words.length) addText(turn, ` (in the audio: ${words.join(" ")})`, "audio-words");
    } else {
      addText(turn, "(says nothing)", "said");
    }
    if (body.card) {
      const card = document.createElement("div");
      card.className = "card";
      addText(card, `Card: ${body.card.title || ""}`, "card-title");
      addText(card, body.card.content || body.card.text || "", "card-text");
      turn.append(card);
    }
    const ends = body.shouldEndSession !== false;
    addText(turn, ends ? "Session ended." : "Listening: the session stays open for your answer.", "session-note");
    // Show the exchange from its start ("You: ..."), inside the transcript only.
    const asked = turn.previousElementSibling || turn;
    transcript.scrollTop = asked.offsetTop - transcript.offsetTop - 4;
  }

  function showSide() {
    $("user-id").textContent = conversation.userId;
    $("session-id").textContent = conversation.ended ? "none (the next request starts one)" : conversation.sessionId;
    $("session-attributes").textContent = JSON.stringify(conversation.attributes, null, 2);
  }

  async function refreshState() {
    try {
      const state = await getJson(`/console/api/state?user=${encodeURIComponent(conversation.userId)}`);
      $("stored-state").textContent = JSON.stringify(state.attributes, null, 2);
    } catch (error) {
      $("stored-state").textContent = `unavailable: ${error.message}`;
    }
  }

  function showTimeline(items) {
    const list = $("timeline");
    list.replaceChildren();
    let at = 0;
    for (const item of items.slice(0, 300)) {
      const li = document.createElement("li");
      let text = `${at.toFixed(1)} s · `;
      if (item.type === "cue") {
        text += `${item.phase.kind} ${item.phase.seconds.toFixed(1)} s · ${item.text}`;
      } else if (item.type === "pause") {
        text += `pause ${item.seconds.toFixed(1)} s`;
      } else if (item.type === "audio") {
        text += `audio ${item.file}${item.key ? ` (${item.key})` : ""}`;
      } else {
        text += `say · ${item.text}`;
      }
      li.textContent = text;
      list.append(li);
      at += item.seconds || 0;
    }
  }

  async function exchange(envelope, typed) {
    player.stop(); // speaking to an Echo interrupts what it is saying
    describeRequest(envelope, typed);
    $("last-request").textContent = JSON.stringify(envelope, null, 2);
    let reply;
    try {
      reply = await fetch("/alexa", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(envelope),
      });
    } catch (error) {
      addText(entry("Error", "error"), `could not reach the skill: ${error.message}`);
      return;
    }
    if (!reply.ok) {
      addText(entry("Error", "error"), `HTTP ${reply.status}: ${await reply.text()}`);
      return;
    }
    const response = await reply.json();
    conversation.absorb(response);
    $("last-response").textContent = JSON.stringify(response, null, 2);
    const ssml = ((response.response || {}).outputSpeech || {}).ssml || "";
    if (/<audio\b/.test(ssml)) await loadTables(); // pick up a fresh audio build
    showResponse(response);
    showSide();
    refreshState();
    const routine = (response.sessionAttributes || {}).routine;
    const items = T.timeline(ssml, PHASES, CUES, routine && routine.technique);
    showTimeline(items);
    player.play(items);
  }

  function enqueue(task) {
    queue = queue.then(task).catch((error) => {
      addText(entry("Error", "error"), error.message);
    });
    return queue;
  }

  async function sayText(text) {
    const match = await getJson("/console/api/match", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, locale: conversation.locale }),
    });
    if (match.kind === "end") return;
    const envelope =
      match.kind === "launch"
        ? conversation.launch()
        : conversation.intent(match.intent || "AMAZON.FallbackIntent", match.slots);
    await exchange(envelope, text);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    enqueue(() => sayText(text));
  });

  /** A button's words without its decorative icon. */
  function spokenLabel(button) {
    const copy = button.cloneNode(true);
    copy.querySelectorAll("[aria-hidden]").forEach((icon) => icon.remove());
    return copy.textContent.trim();
  }

  document.querySelectorAll("[data-intent]").forEach((button) => {
    button.addEventListener("click", () =>
      enqueue(() => exchange(conversation.intent(button.dataset.intent), spokenLabel(button))),
    );
  });
  $("launch").addEventListener("click", () =>
    enqueue(() => exchange(conversation.launch(), "open breathing room")),
  );
  $("silence").addEventListener("click", () =>
    enqueue(async () => {
      if (conversation.ended) {
        addText(entry("Console", "note"), "No session is open, so there is nothing to stay silent to.");
        return;
      }
      await exchange(conversation.sessionEnded("EXCEEDED_MAX_REPROMPTS"), "(says nothing)");
    }),
  );
  $("stop-playing").addEventListener("click", () => player.stop());
  $("new-user").addEventListener("click", () => {
    player.stop();
    conversation.newUser();
    addText(entry("Console", "note"), "New user: a fresh user id, nothing stored yet.");
    showSide();
    refreshState();
  });
  $("screen").addEventListener("change", (event) => {
    conversation.screen = event.target.checked;
  });
  $("locale").addEventListener("change", (event) => {
    conversation.locale = event.target.value;
    enqueue(loadTables);
  });

  if ("speechSynthesis" in window) {
    window.speechSynthesis.addEventListener("voiceschanged", updateSpeechStatus);
  }
  updateSpeechStatus();
  showSide();
  refreshState();
  enqueue(loadTables).then(() => document.body.setAttribute("data-ready", "true"));
  requestAnimationFrame(frame);

  // For the browser test and for poking at things from the devtools console.
  window.breathingRoomConsole = { conversation, player, tables: () => ({ PHASES, CUES }) };
})();
