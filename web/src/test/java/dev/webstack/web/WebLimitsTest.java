package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.WebConfig;
import org.junit.jupiter.api.Test;

/** {@link WebLimits}' defaults, which the tests and the tier's documentation name, are the config's. */
class WebLimitsTest {
    @Test
    void theDefaultsAreTheConfigsDefaults() {
        assertThat(WebLimits.defaults()).isEqualTo(WebLimits.from(WebConfig.Limits.DEFAULTS));
    }
}
