package dev.webstack.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class PoolTest {

    @Test
    void mysqlUrlsArePermittedForTheMariaDbDriver() {
        assertThat(Pool.forMariaDbDriver("jdbc:mariadb://db:3306/foobar")).isEqualTo("jdbc:mariadb://db:3306/foobar");
        assertThat(Pool.forMariaDbDriver("jdbc:mysql://db:3306/foobar")).isEqualTo("jdbc:mysql://db:3306/foobar?permitMysqlScheme");
        assertThat(Pool.forMariaDbDriver("jdbc:mysql://db/foobar?useSsl=true"))
                .isEqualTo("jdbc:mysql://db/foobar?useSsl=true&permitMysqlScheme");
    }

    @Test
    void failuresAreDescribedInOneLineWithTheirRootCause() {
        Exception e = new IllegalStateException("Unable to connect\n-----\nSQL State: 08000",
                new SQLException("wrapper", new java.net.ConnectException("Connection refused")));
        assertThat(Deployment.describe(e))
                .isEqualTo("IllegalStateException: Unable to connect; root cause: ConnectException: Connection refused");
    }
}
