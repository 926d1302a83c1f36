public enum TraceModule {}
