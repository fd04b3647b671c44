// SIGINT and SIGTERM ask a tool's loop to stop. The handler only sets a flag, and it is
// installed without SA_RESTART, so a blocked epoll_wait or poll returns EINTR and the loop sees
// the flag on its next check.
#pragma once

namespace apps {

void install_stop_signals();
bool stop_requested();

}  // namespace apps
