package dev.drainguard.lifecycle;

/** The LifecycleActionResult sent with CompleteLifecycleAction, and a hook's DefaultResult. */
public enum LifecycleResult {
  CONTINUE,
  ABANDON
}
