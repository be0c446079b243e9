"""What the browser tests share: skipping where the tooling is absent, a free port, and the
script that watches a Playground train (in JupyterLab and in the Voilà app alike)."""

from __future__ import annotations

import os
import socket

import pytest


def missing(what: str) -> None:
    """Skip where the browser tooling is absent; on CI (``CI`` set) fail, since CI must run it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set, so the browser test must run; .ci/run installs it)", pytrace=False)
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Records, from before Train is pressed, each new picture of the plot (a hash of the PNG's bytes,
# read from its blob: URL when it appears) and whether it came before the status said ``done``
# (which counts only once a "Training" status was seen: a previous run's may linger); and how far
# the progress bar got. The panel watched is the plot's closest ``root`` (a CSS selector).
WATCH_TRAINING_JS = r"""({root, done}) => {
    const app = document.querySelector('.vaelib-plot').closest(root);
    const plot = () => app.querySelector('img.vaelib-plot, .vaelib-plot img');
    const fnv1a = buffer => {
        let hash = 0x811c9dc5;
        for (const byte of new Uint8Array(buffer)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
        return `${hash.toString(16)}/${buffer.byteLength}`;
    };
    const record = {frames: [], progressMax: 0, startedSeen: false, doneSeen: false};
    const addFrame = (src, beforeDone) => {
        const frame = {beforeDone, hash: src ? null : 'no picture'};
        record.frames.push(frame);
        if (src) fetch(src).then(r => r.arrayBuffer()).then(b => { frame.hash = fnv1a(b); },
                                                   e => { frame.hash = `unreadable: ${e}`; });
    };
    let lastSrc = plot()?.src;
    addFrame(lastSrc, true);  // frame 0: the picture before training
    const check = () => {
        const status = app.querySelector('.vaelib-status')?.textContent ?? '';
        record.startedSeen = record.startedSeen || (status.includes('Training') && !status.includes(done));
        record.doneSeen = record.doneSeen || (record.startedSeen && status.includes(done));
        const src = plot()?.src;
        if (src && src !== lastSrc) { lastSrc = src; addFrame(src, !record.doneSeen); }
        const bar = app.querySelector('.vaelib-progress .progress-bar');
        if (bar) record.progressMax = Math.max(record.progressMax, parseFloat(bar.style.width) || 0);
    };
    new MutationObserver(check).observe(app, {subtree: true, childList: true, attributes: true, characterData: true});
    window.__vaelibTraining = record;
}"""
