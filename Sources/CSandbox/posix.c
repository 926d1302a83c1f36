/* See al_posix.h. */
#include "al_posix.h"

#include <fcntl.h>
#include <unistd.h>

int al_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
