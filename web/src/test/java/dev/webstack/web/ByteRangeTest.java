package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ByteRangeTest {

    @Test
    void singleRanges() {
        assertThat(ByteRange.parse("bytes=0-9", 100)).isEqualTo(new ByteRange.Partial(0, 9));
        assertThat(ByteRange.parse("bytes=90-", 100)).isEqualTo(new ByteRange.Partial(90, 99));
        assertThat(ByteRange.parse("bytes=-10", 100)).isEqualTo(new ByteRange.Partial(90, 99));
        assertThat(ByteRange.parse("BYTES = 5-5".replace(" = ", "="), 100)).isEqualTo(new ByteRange.Partial(5, 5));
    }

    @Test
    void rangesAreClampedToTheFile() {
        assertThat(ByteRange.parse("bytes=50-1000", 100)).isEqualTo(new ByteRange.Partial(50, 99));
        assertThat(ByteRange.parse("bytes=-1000", 100)).isEqualTo(new ByteRange.Partial(0, 99));
    }

    @Test
    void unsatisfiable() {
        assertThat(ByteRange.parse("bytes=100-", 100)).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(ByteRange.parse("bytes=100-200", 100)).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(ByteRange.parse("bytes=-0", 100)).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(ByteRange.parse("bytes=0-0", 0)).isInstanceOf(ByteRange.Unsatisfiable.class);
    }

    @Test
    void whatIsNotOneValidRangeIsIgnored() {
        assertThat(ByteRange.parse("bytes=0-1,5-6", 100)).isInstanceOf(ByteRange.Full.class);
        assertThat(ByteRange.parse("items=0-1", 100)).isInstanceOf(ByteRange.Full.class);
        assertThat(ByteRange.parse("bytes=9-1", 100)).isInstanceOf(ByteRange.Full.class);
        assertThat(ByteRange.parse("bytes=a-b", 100)).isInstanceOf(ByteRange.Full.class);
        assertThat(ByteRange.parse("bytes=-", 100)).isInstanceOf(ByteRange.Full.class);
        assertThat(ByteRange.parse("bytes=99999999999999999999-", 100)).isInstanceOf(ByteRange.Full.class);
    }
}
