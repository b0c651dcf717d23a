package dev.drainguard.status;

import dev.drainguard.drain.ControlResult;

/** What the control socket asks of the running agent. */
public interface ControlHandler {

  StatusView status();

  ControlResult hold(String reason);

  ControlResult release(boolean force, String reason);
}
