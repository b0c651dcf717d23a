package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every shell script the packages ship or run, through shellcheck, as POSIX sh. */
class ShellcheckIT {

  static final List<String> SCRIPTS =
      List.of(
          "root/usr/bin/drainguard",
          "root/usr/libexec/drainguard/maintainer",
          "root/usr/libexec/drainguard/wait-ready",
          "deb/postinst",
          "deb/prerm",
          "deb/postrm",
          "rpm/post.sh",
          "rpm/preun.sh",
          "rpm/postun.sh");

  @Test
  void noScriptHasAFinding() {
    Pkg.requireTool("shellcheck");
    List<String> cmd = new ArrayList<>(List.of("shellcheck", "--shell=sh", "--severity=style"));
    SCRIPTS.forEach(s -> cmd.add(Pkg.SOURCES.resolve(s).toString()));

    Pkg.Result r = Pkg.run(cmd.toArray(String[]::new));

    assertThat(r.out() + r.err()).isEmpty();
    assertThat(r.exit()).isZero();
  }
}
