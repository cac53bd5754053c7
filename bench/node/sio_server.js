// Socket.IO 4 baseline server: the equivalent of our hub's work for the bench scenarios.
// login = an acknowledged event that joins a per-user room; channels are rooms; a channel
// message is io.to(room).emit (the sender included, as our channels do); a point-to-point
// message is an emit to the peer's user room. WebSocket transport only, compression off.
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ["websocket"],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 1e6,
});

io.on("connection", (socket) => {
  socket.on("login", (account, cb) => {
    socket.data.account = account;
    socket.join("u:" + account);
    cb({ session: socket.id, resumed: false });
  });
  socket.on("ch_join", (channel, cb) => {
    socket.join(channel);
    const room = io.sockets.adapter.rooms.get(channel);
    cb({ channel, num: room ? room.size : 0 });
  });
  socket.on("ch_send", (channel, msg, cb) => {
    io.to(channel).emit("ch_msg", { channel, account: socket.data.account, msg });
    if (cb) cb({ msg_id: "" });
  });
  socket.on("send", (peer, msg, cb) => {
    io.to("u:" + peer).emit("msg", { account: socket.data.account, msg, iid: 0, ts: 0 });
    if (cb) cb({ msg_id: "" });
  });
});

httpServer.listen(0, "127.0.0.1", () => {
  console.log(`listening on ws://127.0.0.1:${httpServer.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
