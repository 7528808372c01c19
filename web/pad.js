// pad.js: drawing on a canvas with a mouse, a finger or a pen (pointer events): round black strokes, a pen's
// pressure scaling the brush, every coalesced move drawn. Used by the Digits tab and the Train models tab's pad.

/**
 * Draw on `canvas` with a brush of `brush` px (in the canvas's own pixels). `start(event)` runs at pen down before
 * the first dot, `move()` after each dot or segment, `end()` at pen up. Returns {drawing}: whether a stroke is on.
 */
export function drawOn(canvas, brush, { start = () => {}, move = () => {}, end = () => {} } = {}) {
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let drawing = null, last = null;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * canvas.width) / box.width, y: ((event.clientY - box.top) * canvas.height) / box.height,
      width: event.pointerType === "pen" && event.pressure > 0 ? brush * (0.5 + event.pressure) : brush };
  };
  const segment = (from, to) => {
    context.strokeStyle = "#000";
    context.lineCap = context.lineJoin = "round";
    context.lineWidth = to.width;
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  };
  canvas.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    start(event);
    drawing = event.pointerId;
    last = at(event);
    segment(last, last);
    move();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drawing !== event.pointerId) return;
    for (const e of event.getCoalescedEvents?.() ?? [event]) {
      const point = at(e);
      segment(last, point);
      last = point;
    }
    move();
  });
  const stop = (event) => {
    if (drawing !== event.pointerId) return;
    drawing = null;
    end();
  };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  return { get drawing() { return drawing !== null; } };
}
