package dev.drainguard.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A StatsD listener at its simplest: a UDP socket on 127.0.0.1 that keeps every line of every
 * datagram it receives, in order. Real UDP over loopback, as a StatsD agent would receive it.
 */
final class UdpLines implements AutoCloseable {

  private final DatagramSocket socket;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  UdpLines() {
    try {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    } catch (SocketException e) {
      throw new UncheckedIOException(e);
    }
    reader = new Thread(this::read, "udp-lines");
    reader.setDaemon(true);
    reader.start();
  }

  InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort());
  }

  List<String> lines() {
    return List.copyOf(lines);
  }

  /** The lines whose metric name (before tags and value) is {@code name}. */
  List<String> named(String name) {
    return lines.stream()
        .filter(
            l -> l.startsWith(name + ":") || l.startsWith(name + ",") || l.startsWith(name + "."))
        .toList();
  }

  private void read() {
    byte[] buffer = new byte[65_536];
    while (!socket.isClosed()) {
      DatagramPacket p = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(p);
      } catch (IOException e) {
        return; // closed
      }
      String text = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
      for (String line : text.split("\n")) {
        if (!line.isEmpty()) {
          lines.add(line);
        }
      }
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
