"""What the test modules share: paths and factories, file builders, fakes at the wire (an
OpenAI-compatible server, the Telegram Bot API), real servers (uvicorn, Chroma, PostgreSQL,
Chromium), the app deployed as production runs it, staff sign-in, and the package graph.

Test modules import from here, never from one another."""
