// Noticing that a client went away while its request is still being computed.
//
// cpp-httplib 0.11 gives a handler no access to its connection, and its DataSink::is_writable
// only asks select() whether a write would block, which stays true after the peer closed. So
// the handler finds its own socket: the open socket whose local and peer ports and peer
// address are those httplib recorded in the Request. The socket is owned by the handler's
// thread for the whole request, so the descriptor cannot change under it.
#pragma once
#include <string>

namespace lmkit::server {

class ConnectionWatch {
 public:
  // Looks the socket up once (by scanning /proc/self/fd). If it cannot be found the watch
  // reports the peer as connected (a request is never cancelled on a guess).
  ConnectionWatch(const std::string& remote_addr, int remote_port, int local_port);
  bool found() const { return fd_ >= 0; }
  // True once the peer has closed or reset the connection (a pending next request on a
  // keep-alive connection does not count: only end-of-stream, hang-up or an error).
  bool peer_closed() const;

 private:
  int fd_ = -1;
};

}  // namespace lmkit::server
