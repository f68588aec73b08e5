-- A fresh stack shows content: a few posts about the stack itself, spread over the last days.
INSERT INTO posts (title, body, author, created_at) VALUES
('Welcome to foobar.com',
 'This is the first post on www.foobar.com. Every page you read here went through the whole stack: a DNS lookup answered by our own name server, the web server in front, an application server running this site''s code, and a MySQL-compatible database holding this very text.\n\nWrite your own post with the "New post" link at the top.',
 'The foobar team', CURRENT_TIMESTAMP(3) - INTERVAL 4 DAY),
('How a request reaches this page',
 'Your browser asks DNS for www.foobar.com and gets a CNAME to foobar.com and its A record. It connects to the web server, which serves images, styles and scripts from disk by itself and hands every other request to one of the application servers. The application server renders the page from a template, reading posts from the database through a connection pool.',
 'Ada', CURRENT_TIMESTAMP(3) - INTERVAL 3 DAY),
('Why the web server serves static files itself',
 'Stylesheets, scripts and images never change between requests, so the web server reads them straight from the codebase''s public folder. The application servers only see requests that need code to run, which keeps their threads free for real work.',
 'Grace', CURRENT_TIMESTAMP(3) - INTERVAL 2 DAY),
('Stateless application servers',
 'Any application server can answer any request: nothing about a visitor is kept in one server''s memory. Even the token that protects the post form is checked with a secret kept in the database, so a form served by one server can be submitted to another.',
 'Linus', CURRENT_TIMESTAMP(3) - INTERVAL 1 DAY),
('The JSON API',
 'Everything on the home page is also available as JSON: GET /api/posts lists the newest posts, GET /api/posts/{id} returns one, and POST /api/posts with a JSON body creates a post.',
 'Margaret', CURRENT_TIMESTAMP(3) - INTERVAL 2 HOUR);
