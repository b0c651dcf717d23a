package dev.drainguard.status;

import dev.drainguard.drain.ControlResult;
import dev.drainguard.operator.Caller;

/**
 * What the control socket asks of the running agent. Every hold and release names its caller as the
 * kernel reported it for the connection; reasons arrive capped at {@link
 * dev.drainguard.operator.OperatorText#MAX_REASON} characters.
 */
public interface ControlHandler {

  StatusView status();

  ControlResult hold(Caller caller, String reason);

  ControlResult release(Caller caller, boolean force, String reason);
}
