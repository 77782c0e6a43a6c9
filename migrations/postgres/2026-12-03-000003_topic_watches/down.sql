DROP TABLE topic_watches;
