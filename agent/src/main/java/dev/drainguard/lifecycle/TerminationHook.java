package dev.drainguard.lifecycle;

import java.time.Duration;

/**
 * A termination lifecycle hook as DescribeLifecycleHooks reports it.
 *
 * @param heartbeatTimeout how long the action waits for a heartbeat (30 s to 7200 s)
 * @param globalTimeout the cap on the whole wait, min(48 h, 100 x heartbeatTimeout)
 * @param defaultResult what Auto Scaling does when the action times out
 */
public record TerminationHook(
    String name,
    Duration heartbeatTimeout,
    Duration globalTimeout,
    LifecycleResult defaultResult) {}
