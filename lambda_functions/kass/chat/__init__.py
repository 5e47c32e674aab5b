"""Chat: the ask use case, conversations, and resolving the citations an answer makes."""
