DROP TABLE mail_queue;
DROP TABLE notification_settings;
