//! A faithful simulator of the Anova cloud WebSocket.
