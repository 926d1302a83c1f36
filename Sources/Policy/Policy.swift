public enum PolicyModule {}
