public enum ToolsModule {}
