package dev.webstack.site;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Posts in the {@code posts} table (see {@code db/migration/V1__posts.sql}), over plain JDBC.
 * Writes go to the primary; reads where the caller says ({@link Database.ReadFrom}).
 */
public final class PostRepository {
    private static final String COLUMNS = "id, title, body, author, created_at";

    private final Database database;

    public PostRepository(Database database) {
        this.database = database;
    }

    /** The {@code limit} newest posts, newest first; posts created in the same millisecond by id. */
    public List<Post> newest(int limit, Database.ReadFrom from) throws SQLException {
        try (Connection c = database.forReading(from).getConnection();
             PreparedStatement s = c.prepareStatement(
                     "SELECT " + COLUMNS + " FROM posts ORDER BY created_at DESC, id DESC LIMIT ?")) {
            s.setInt(1, limit);
            try (ResultSet rs = s.executeQuery()) {
                List<Post> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(read(rs));
                }
                return out;
            }
        }
    }

    /**
     * The post {@code id}. One that a replica does not have is looked up on the primary too: it may
     * be a post written a moment ago (an API client's {@code Location}) that the replica has not
     * applied yet.
     */
    public Optional<Post> find(long id, Database.ReadFrom from) throws SQLException {
        try (Connection c = database.forReading(from).getConnection()) {
            Optional<Post> post = find(c, id);
            if (post.isPresent() || database.reads() == database.primary() || from == Database.ReadFrom.PRIMARY) {
                return post;
            }
        }
        try (Connection c = database.primary().getConnection()) {
            return find(c, id);
        }
    }

    /** Stores a valid post and returns it as stored: with its id and creation time. */
    public Post insert(PostInput input) throws SQLException {
        try (Connection c = database.primary().getConnection()) {
            long id;
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO posts (title, body, author) VALUES (?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                s.setString(1, input.title());
                s.setString(2, input.body());
                s.setString(3, input.author());
                s.executeUpdate();
                try (ResultSet keys = s.getGeneratedKeys()) {
                    if (!keys.next()) {
                        throw new SQLException("INSERT INTO posts returned no generated id");
                    }
                    id = keys.getLong(1);
                }
            }
            return find(c, id).orElseThrow(() -> new SQLException("post " + id + " vanished right after its INSERT"));
        }
    }

    private static Optional<Post> find(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM posts WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    private static Post read(ResultSet rs) throws SQLException {
        return new Post(
                rs.getLong("id"),
                rs.getString("title"),
                rs.getString("body"),
                rs.getString("author"),
                rs.getTimestamp("created_at").toInstant());
    }
}
