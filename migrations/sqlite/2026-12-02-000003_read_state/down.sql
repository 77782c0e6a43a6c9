DROP INDEX topics_created;
DROP TABLE category_reads;
DROP TABLE topic_reads;
