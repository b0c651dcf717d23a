package dev.drainguard.lifecycle;

/** DescribeAutoScalingInstances for this instance: its group and lifecycle state. */
public record GroupMembership(String groupName, String lifecycleState) {}
