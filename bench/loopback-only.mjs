// Preloaded (node --import) into third-party servers that bench:gateway starts and that
// listen on every interface with no option to say otherwise (the Portkey gateway's
// start-server): every TCP listen is bound to 127.0.0.1, so the bench stays on loopback.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first, second] = args;
  if (first !== null && typeof first === "object" && !("_handle" in first) && first.path === undefined) {
    args[0] = { ...first, host: "127.0.0.1" };
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (second === undefined || second === null || typeof second === "string") args[1] = "127.0.0.1";
    else args.splice(1, 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};
