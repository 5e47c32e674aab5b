"""Answers streamed over WebSocket: the frame protocol (docs/api/streaming.md), the stream
that batches deltas into frames, and the connection's use cases behind stream_handler."""
