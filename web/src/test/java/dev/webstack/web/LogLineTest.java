package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.AsciiString;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** {@link LogLine}: the escaping of request text and the time of a line. */
class LogLineTest {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US);

    private static long epochSecond(LogLine line) {
        return ZonedDateTime.parse(line.toString(), TIME).toEpochSecond();
    }

    @Test
    void theTimeOfALineIsTheWallClockWhenItWasWrittenToTheSecond() throws InterruptedException {
        LogLine line = new LogLine();
        long before = Math.floorDiv(System.currentTimeMillis(), 1_000);
        long first = epochSecond(line.clear().localTime(System.nanoTime()));
        assertThat(first).isBetween(before, Math.floorDiv(System.currentTimeMillis(), 1_000));

        Thread.sleep(1_200);
        long from = Math.floorDiv(System.currentTimeMillis(), 1_000);
        long second = epochSecond(line.clear().localTime(System.nanoTime()));
        assertThat(second).as("a line written 1.2 s later").isBetween(from, Math.floorDiv(System.currentTimeMillis(), 1_000))
                .isGreaterThanOrEqualTo(first + 1);
    }

    @Test
    void requestTextIsEscapedSoThatItCannotForgeALine() {
        LogLine line = new LogLine().quoted("GET /a\"b\\c\r\n\u0001\u00e9 x");
        assertThat(line.toString()).isEqualTo("GET /a\\x22b\\x5Cc\\x0D\\x0A\\x01\\xE9 x");
        assertThat(new LogLine().quoted(null).toString()).isEqualTo("-");
        assertThat(new LogLine().quoted("\u20ac").toString()).as("above 0xff: its UTF-8 bytes").isEqualTo("\\xE2\\x82\\xAC");
    }

    @Test
    void anAsciiStringIsEscapedTheSameAsAStringFromItsOwnPartOfTheArray() {
        AsciiString whole = new AsciiString("xxGET /a\"b\\c\r\n\u0001\u00e9 xyy");
        AsciiString part = whole.subSequence(2, whole.length() - 2, false); // shares the array, at an offset
        assertThat(part.arrayOffset()).isEqualTo(2);
        assertThat(new LogLine().quoted(part).toString()).isEqualTo("GET /a\\x22b\\x5Cc\\x0D\\x0A\\x01\\xE9 x");
        assertThat(new LogLine().quoted(AsciiString.of("4ba23187e7cb56b3")).toString()).isEqualTo("4ba23187e7cb56b3");
    }

    @Test
    void textLongerThanTheLineSoFarGrowsItWithEscapesAnywhere() {
        String plain = "a".repeat(700);
        String escaped = "\"".repeat(300);
        LogLine line = new LogLine().raw('[').quoted(plain + escaped + plain).raw(']');
        assertThat(line.toString()).isEqualTo("[" + plain + "\\x22".repeat(300) + plain + "]");
        assertThat(line.length()).isEqualTo(2 + 1_400 + 1_200);
    }
}
