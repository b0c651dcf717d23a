package dev.drainguard.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.operator.Caller;
import org.junit.jupiter.api.Test;

class AdmissionTest {

  final Admission a = new Admission();

  @Test
  void oneUid_getsItsShareOnly_andGetsItBackOnRelease() {
    Caller alice = new Caller(1000, "alice");
    for (int i = 0; i < Admission.PER_UID; i++) {
      assertThat(a.admit(alice)).isEmpty();
    }
    assertThat(a.admit(alice)).hasValueSatisfying(m -> assertThat(m).startsWith("busy:"));
    a.release(alice);
    assertThat(a.admit(alice)).isEmpty();
  }

  @Test
  void whenTheSharedSlotsAreTaken_rootIsStillAdmitted() {
    for (int uid = 2000; a.open() < Admission.SHARED; uid++) {
      for (int i = 0; i < Admission.PER_UID && a.open() < Admission.SHARED; i++) {
        assertThat(a.admit(new Caller(uid, "u" + uid))).isEmpty();
      }
    }
    assertThat(a.admit(new Caller(9999, "late")))
        .hasValueSatisfying(m -> assertThat(m).contains("busy"));
    for (int i = 0; i < Admission.ROOT; i++) {
      assertThat(a.admit(new Caller(0, "root"))).isEmpty();
    }
    assertThat(a.admit(new Caller(0, "root"))).isPresent();
  }

  @Test
  void callersWithoutAUid_areCountedByName() {
    Caller x = new Caller(-1, "x");
    for (int i = 0; i < Admission.PER_UID; i++) {
      assertThat(a.admit(x)).isEmpty();
    }
    assertThat(a.admit(x)).isPresent();
    assertThat(a.admit(new Caller(-1, "y"))).isEmpty();
  }
}
